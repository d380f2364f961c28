"A distillation run in its own process, killed with SIGKILL after checkpoints and resumed each time, ends with the prompt of an uninterrupted run."
import json, os, signal, subprocess, sys, tempfile, time
from pathlib import Path
import torch
from safetensors import safe_open
from safetensors.torch import load_file

ENV = dict(os.environ, HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1', TOKENIZERS_PARALLELISM='false', CTP_HOME=tempfile.mkdtemp())

RUN = r'''
import sys, torch
torch.set_num_threads(1)
from ctp.testing import tiny_model
from ctp.compress import compress
from ctp.soft_prompt import SoftPrompt, train_prompt, save_prompt
from ctp.train import TrainConfig
ckpt, out = sys.argv[1], sys.argv[2]
teacher, tok = tiny_model('llama', seed=0)
student = compress(tiny_model('llama', seed=0)[0], 'w4g32@rtn', progress=False)
text = 'Where is Long Beach? Long Beach is a city in California. What is asparagus? Asparagus is a vegetable. '
ids = torch.tensor(tok(text * 40, add_special_tokens=False).input_ids)
blocks = ids[:len(ids) // 32 * 32].view(-1, 32)
cfg = TrainConfig(n_tokens=4, lr=0.05, warmup=5, steps=150, batch_size=2, seq_len=32, eval_every=50, eval_blocks=4,
                  checkpoint_every=10, objective='mix', kd_weight=0.7, temperature=2.0, kd_topk=16)
res = train_prompt(student, blocks[:-4], blocks[-4:], cfg, prompt=SoftPrompt.init_from(student, tok, 4), teacher=teacher,
                   tokenizer=tok, checkpoint_dir=ckpt if ckpt != '-' else None)
save_prompt(res.prompt, out, resumed_from=res.resumed_from)
'''

def _start(ckpt, out): return subprocess.Popen([sys.executable, '-c', RUN, str(ckpt), str(out)], env=ENV,
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def _step(ckpt:Path):
    try: return json.loads((ckpt/'checkpoint.json').read_text())['step']
    except (FileNotFoundError, json.JSONDecodeError, KeyError): return 0

def test_distillation_killed_and_resumed_gives_the_same_prompt(tmp_path):
    ckpt, out = tmp_path/'ckpt', tmp_path/'killed.safetensors'
    kills = []
    for target in (20, 60, 100):                   # SIGKILL once a checkpoint at or past `target` is on disk
        p = _start(ckpt, out)
        t0 = time.time()
        while _step(ckpt) < target and p.poll() is None and time.time() - t0 < 300: time.sleep(0.05)
        assert p.poll() is None, f'the run ended before step {target}: nothing to kill ({p.communicate()[1][-2000:]})'
        p.send_signal(signal.SIGKILL); p.wait(); kills.append(_step(ckpt))
    assert not out.exists(), 'a killed run must not write the final prompt'
    p = _start(ckpt, out); _, err = p.communicate(timeout=600)
    assert p.returncode == 0, err[-3000:]
    q = _start('-', tmp_path/'straight.safetensors'); _, err = q.communicate(timeout=600)
    assert q.returncode == 0, err[-3000:]
    assert kills == sorted(kills) and kills[0] >= 20 and kills[-1] < 150, kills
    a, b = load_file(str(out))['prompt'], load_file(str(tmp_path/'straight.safetensors'))['prompt']
    assert torch.equal(a, b), (a - b).abs().max()                       # bit for bit
    with safe_open(str(out), 'pt') as f: assert int(f.metadata()['resumed_from']) == kills[-1]   # the last run resumed where the kill left it
