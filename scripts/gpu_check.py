"""The prepared GPU check: the main job's stages on a random-weight model of a real shape, on one device, each stage's
time and peak memory recorded beside `ctp plan`'s for the same settings.

Random weights, because a GPU machine may reach no hub: the numbers it gives are times and memory, not recovery.
On a GPU machine set up with `make setup` (the CUDA lock): `.venv/bin/python scripts/gpu_check.py --out gpu_check.json`.
`--device cpu --shape llama-tiny-shape` runs the same code on a CPU in seconds, which is what tests/test_gpu_check.py
does: nothing in `make test` needs a GPU."""
import argparse, json, os, sys, tempfile, time
from pathlib import Path
import torch

SHAPES = {'qwen2.5-0.5b-shape': dict(model_type='qwen2', hidden_size=896, num_hidden_layers=24, num_attention_heads=14,
                                     num_key_value_heads=2, intermediate_size=4864, vocab_size=151936, tie_word_embeddings=True)}

def config_for(shape:str):
    "A config of a LLAMA_SHAPES key or of SHAPES."
    from transformers import AutoConfig
    from ctp.plan import plan_config, LLAMA_SHAPES
    if shape in LLAMA_SHAPES: return plan_config(shape)
    kw = dict(SHAPES[shape]); return AutoConfig.for_model(kw.pop('model_type'), max_position_embeddings=4096, **kw)

def measure(fn, device, held=()):
    "`(result, seconds, peak bytes)` of `fn()`: on CUDA the allocator's peak (everything on the card), elsewhere the held tensors plus the peak of those `fn` makes."
    from ctp.plan import LiveMemory
    t0 = time.time()
    if device.type == 'cuda':
        torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
        out = fn(); torch.cuda.synchronize()
        return out, time.time() - t0, torch.cuda.max_memory_allocated()
    base = sum({id(t.untyped_storage()): t.untyped_storage().nbytes() for m in held for t in [*m.parameters(), *m.buffers()]}.values())
    with LiveMemory([t for m in held for t in [*m.parameters(), *m.buffers()]]) as mem: out = fn()
    return out, time.time() - t0, base + mem.peak

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--shape', default='qwen2.5-0.5b-shape', help='a key of ctp.plan.LLAMA_SHAPES or of SHAPES here')
    ap.add_argument('--level', default='w4s50'); ap.add_argument('--device', default='cuda'); ap.add_argument('--dtype', default='bf16')
    ap.add_argument('--steps', type=int, default=20, help='training steps (the recipe trains 200)')
    ap.add_argument('--calib_n', type=int, default=16); ap.add_argument('--eval_blocks', type=int, default=8)
    ap.add_argument('--out', default='gpu_check.json')
    a = ap.parse_args(argv)
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    from transformers import AutoModelForCausalLM
    from ctp.core import ConfigError, get_device, get_dtype, set_seed, save_json
    from ctp.models import attach_record
    from ctp.evaluate import perplexity
    from ctp.compress import compress, save_compressed, load_compressed
    from ctp.deep import DeepPrompt
    from ctp.recover import recipe_config
    from ctp.soft_prompt import train_prompt
    from ctp.plan import plan
    dev, dt = get_device(a.device), get_dtype(a.dtype)
    set_seed(0)
    cfg = config_for(a.shape)
    V, t0 = cfg.vocab_size, time.time()
    tokens = lambda n, T: torch.randint(0, V, (n, T), generator=torch.Generator().manual_seed(n * T))
    def dense_model(where=dev):                 # the same random weights each time, as the main job loads its dense model per stage
        torch.manual_seed(0)
        m = AutoModelForCausalLM.from_config(cfg, dtype=dt).to(where).eval().requires_grad_(False)
        attach_record(m, name=a.shape, level='dense')
        return m
    def free():
        if dev.type == 'cuda': torch.cuda.empty_cache()
    tc = recipe_config(steps=a.steps, eval_every=max(1, a.steps // 2), checkpoint_every=a.steps, eval_blocks=2)
    blocks, rows, work = tokens(a.eval_blocks, 512), {}, Path(tempfile.mkdtemp(prefix='ctp-gpu-check-'))
    dense = dense_model()
    _, s, peak = measure(lambda: perplexity(dense, blocks, batch_size=4), dev, [dense]); rows['dense evaluation'] = dict(seconds=s, peak=peak)
    _, s, peak = measure(lambda: compress(dense, a.level, tokens(a.calib_n, 512), progress=False), dev, [dense])   # in place, as get_compressed does
    rows[f'compression to {a.level} (estimated)'] = dict(seconds=s, peak=peak)
    save_compressed(dense, work/'student'); del dense; free()
    host = dense_model('cpu')                   # `ctp compress --offload`: the dense model on the host, one layer at a time on the device
    _, s, peak = measure(lambda: compress(host, a.level, tokens(a.calib_n, 512), progress=False, device=dev), dev, [] if dev.type == 'cuda' else [host])
    rows[f'compression to {a.level}, dense on the host (estimated)'] = dict(seconds=s, peak=peak); del host
    student = load_compressed(work/'student', device=str(dev), packed=True)[0].to(dt).requires_grad_(False)
    teacher, start = dense_model(), DeepPrompt.init_from(student, None, tc.n_tokens, how='random')
    res, s, peak = measure(lambda: train_prompt(student, tokens(40, tc.seq_len), tokens(2, tc.seq_len), tc, prompt=start, teacher=teacher), dev, [teacher, student])
    rows['training (kd, teacher live)'] = dict(seconds=s, peak=peak, steps=a.steps, seconds_per_step=s / a.steps)
    del teacher; free()
    _, s, peak = measure(lambda: perplexity(student, blocks, prompt=res.prompt, batch_size=4), dev, [student])
    rows[f'{a.level} evaluation + prompt'] = dict(seconds=s, peak=peak)
    try: planned = {r['stage']: r['peak'] for r in plan(cfg, a.level, a.dtype, config=tc)}
    except ConfigError as e: planned, why = {}, str(e)                # another torch than the plan was written for: measured only
    for k, r in rows.items():
        r['planned_peak'] = planned.get(k)
        r['measured_over_planned'] = r['peak'] / planned[k] if k in planned else None
    out = dict(shape=a.shape, level=a.level, dtype=a.dtype, device=torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu',
               torch=torch.__version__, seconds=time.time() - t0, stages=rows, note='random weights: times and memory only',
               **({} if planned else dict(no_plan=why)))
    save_json(out, a.out)
    for k, r in rows.items():
        print(f"{k:40} {r['seconds']:8.1f} s  peak {r['peak'] / 2**30:7.2f} GiB" + (f"  planned {r['planned_peak'] / 2**30:7.2f} GiB" if r['planned_peak'] else ''))
    if not planned: print(f'no plan: {why}')
    return out

if __name__ == '__main__': main()
