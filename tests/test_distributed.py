"""Prompt training in two processes (torchrun, gloo on CPUs), each taking half of every batch, gives the
prompt that one process gives on the same global batches, up to float rounding."""
import json, os, subprocess, sys, textwrap
from pathlib import Path
import pytest
import torch
from safetensors.torch import load_file

BIN = Path(sys.executable).parent

SCRIPT = textwrap.dedent('''
    import json, sys, torch
    torch.set_num_threads(1)
    from ctp.models import load_model
    from ctp.soft_prompt import train_prompt, save_prompt
    from ctp.train import TrainConfig, dist_info
    model_dir, out, ckpt = sys.argv[1:4]
    m, tok = load_model(model_dir, device='cpu')
    rows = set()      # batch rows each training forward pass over the text (32 positions) sees in this process
    def seen(h): rows.add(h.shape[0]) if h.shape[1] == 32 else None   # the fast loss also runs the prompt alone (batch 1) once a step
    m.model.layers[0].register_forward_pre_hook(lambda mod, args, kw: seen(kw['hidden_states'] if 'hidden_states' in kw else args[0]) if torch.is_grad_enabled() else None, with_kwargs=True)
    text = 'Where is Long Beach? Long Beach is a city in California. What is asparagus? Asparagus is a vegetable. '
    ids = torch.tensor(tok(text * 40, add_special_tokens=False).input_ids)
    blocks = ids[:len(ids) // 32 * 32].view(-1, 32)
    cfg = TrainConfig(n_tokens=4, lr=0.1, warmup=2, steps=12, batch_size=4, seq_len=32, eval_every=4, eval_blocks=4,
                      checkpoint_every=4, seed=1)
    res = train_prompt(m, blocks[:-4], blocks[-4:], cfg, tokenizer=tok, checkpoint_dir=ckpt)
    rank, world = dist_info()
    if rank == 0:
        save_prompt(res.prompt, out)
        json.dump(dict(world=world, rows=sorted(rows), history=res.history, best_step=res.best_step), open(out + '.json', 'w'))
    else: json.dump(dict(world=world, rank=rank, rows=sorted(rows)), open(out + f'.rank{rank}.json', 'w'))
''')

@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    from ctp.testing import tiny_model
    d = tmp_path_factory.mktemp('dist')
    m, t = tiny_model('llama'); m.save_pretrained(d/'tiny'); t.save_pretrained(d/'tiny')
    (d/'train.py').write_text(SCRIPT)
    env = dict(os.environ, HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1', TOKENIZERS_PARALLELISM='false',
               OMP_NUM_THREADS='1', GLOO_SOCKET_IFNAME='lo', CTP_HOME=str(d/'home'))
    return d, env

def test_two_processes_give_the_one_process_prompt(setup):
    d, env = setup
    one = subprocess.run([sys.executable, d/'train.py', d/'tiny', d/'one.safetensors', d/'ckpt1'], env=env,
                         capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr[-3000:]
    two = subprocess.run([BIN/'torchrun', '--standalone', '--nproc_per_node', '2', d/'train.py', d/'tiny', d/'two.safetensors', d/'ckpt2'],
                         env=env, capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    h1, h2 = json.loads((d/'one.safetensors.json').read_text()), json.loads((d/'two.safetensors.json').read_text())
    assert (h1['world'], h2['world']) == (1, 2)
    assert json.loads((d/'two.safetensors.rank1.json').read_text()) == dict(world=2, rank=1, rows=[2])
    assert (h1['rows'], h2['rows']) == ([4], [2]), 'each of the two processes must take half of every batch of 4'
    a, b = load_file(str(d/'one.safetensors'))['prompt'], load_file(str(d/'two.safetensors'))['prompt']
    from ctp.models import load_model
    from ctp.soft_prompt import SoftPrompt
    start = SoftPrompt.init_from(load_model(d/'tiny', device='cpu')[0], n_tokens=4).weight.detach()
    assert (a - start).abs().max() > 1e-2, 'the prompt must have moved'
    print(f'max |one - two| = {(a - b).abs().max().item():.2e}; moved by {(a - start).abs().max().item():.2e}')
    assert torch.allclose(a, b, rtol=1e-4, atol=1e-5), (a - b).abs().max()
    l1, l2 = [r[1] for r in h1['history']['train']], [r[1] for r in h2['history']['train']]
    assert len(l1) == len(l2) == 12 and max(abs(x - y) for x, y in zip(l1, l2)) < 1e-4, (l1, l2)
    v1, v2 = h1['history']['valid'], h2['history']['valid']
    assert [s for s, _ in v1] == [s for s, _ in v2] == [0, 4, 8, 12]
    assert all(abs(p - q) / p < 1e-4 for (_, p), (_, q) in zip(v1, v2)), (v1, v2)
    assert v1[-1][1] < v1[0][1], v1                    # and training did something
    assert h1['best_step'] == h2['best_step']
    # one checkpoint folder per run, written by rank 0 alone: the same files
    assert sorted(p.name for p in (d/'ckpt2').iterdir()) == sorted(p.name for p in (d/'ckpt1').iterdir())

def test_ctp_train_under_torchrun(setup, tmp_path):
    "The command line under torchrun with the default batch of one block: one block per process; rank 0 alone writes the prompt and prints."
    d, env = setup
    r = subprocess.run([BIN/'torchrun', '--standalone', '--nproc_per_node', '2', BIN/'ctp', 'train', '--model', d/'tiny',
                        '--level', 'dense', '--steps', '4', '--n_tokens', '4', '--seq_len', '32',
                        '--eval_every', '2', '--kind', 'shallow', '--init', 'vocab', '--lr', '0.01', '--out', tmp_path/'p.safetensors'], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count('wrote') == 1, r.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ['p.ckpt', 'p.json', 'p.safetensors']
    assert r.stderr.count('2 processes: one block each, so batch_size 2 (not 1)') == 2, r.stderr[-3000:]   # said by each process
    rec = json.loads((tmp_path/'p.json').read_text())
    assert rec['best_step'] in (0, 2, 4) and rec['config']['batch_size'] == 2
    assert load_file(str(tmp_path/'p.safetensors'))['prompt'].shape == (4, 64)
