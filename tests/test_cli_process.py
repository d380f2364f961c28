"The `ctp` console script in its own process: exit codes, one-line errors, and kill -9 then resume."
import json, os, random, signal, subprocess, sys, time
from pathlib import Path
import pytest
import torch
from safetensors.torch import load_file

BIN = Path(sys.executable).parent
CTP = str(BIN/'ctp')
ENV = dict(os.environ, HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1', TOKENIZERS_PARALLELISM='false',
           CTP_HOME=__import__('tempfile').mkdtemp())   # never the user's cache

def ctp(*args, **kw):
    return subprocess.run([CTP, *map(str, args)], capture_output=True, text=True, env=ENV, **kw)

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    from ctp.models import tiny_model
    d = tmp_path_factory.mktemp('tiny')/'llama'
    m, t = tiny_model('llama', max_positions=2048); m.save_pretrained(d); t.save_pretrained(d)
    return d

def test_help_lists_commands():
    r = ctp('--help')
    assert r.returncode == 0
    for c in ('reproduce', 'compress', 'train', 'eval', 'docs'): assert c in r.stdout
    r = ctp('train', '--help')
    assert r.returncode == 0 and '--steps' in r.stdout and '(default: 120)' in r.stdout

@pytest.mark.parametrize('args,msg', [
    (('frobnicate',), "unknown command 'frobnicate'"),
    (('compress', '--level', 'w4s150'), 'w4s150'),
    (('eval', '--model', '/no/such/model'), 'no such model path'),
    (('train', '--out', 'prompt.pt'), 'must end in .safetensors'),
    (('train', '--steps', '0', '--out', 'x.safetensors'), 'steps must be a number'),
    (('train', '--lr', '-1', '--out', 'x.safetensors'), 'lr must be a number'),
    (('eval', '--tasks', 'piqa,nosuchtask'), "unknown task 'nosuchtask'"),
    (('eval', '--corpora', 'wikitext'), "unknown corpus 'wikitext'"),
])
def test_bad_input_one_line_status_2(args, msg, tiny, tmp_path):
    args = tuple(str(tiny) if a == '__tiny__' else a for a in args)
    if args[0] in ('eval', 'train') and '--model' not in args: args = (*args, '--model', str(tiny))
    r = ctp(*args, cwd=tmp_path)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and msg in lines[0], r.stderr[-2000:]
    assert list(tmp_path.iterdir()) == [], 'a failed command must write nothing'

TRAIN = ['--level', 'dense', '--steps', '600', '--n_tokens', '4', '--batch_size', '2', '--seq_len', '32', '--eval_every', '30', '--seed', '3']

def test_kill_and_resume_gives_the_same_prompt(tiny, tmp_path):
    "SIGKILL `ctp train` at random moments after checkpoints, resume each time: the final prompt equals an uninterrupted run's."
    ref = tmp_path/'ref.safetensors'
    r = ctp('train', '--model', tiny, '--out', ref, *TRAIN)
    assert r.returncode == 0, r.stderr[-2000:]
    out = tmp_path/'killed.safetensors'
    ckpt = out.with_suffix('.ckpt')
    rng, kills, resumed_from = random.Random(0), 0, []
    # kill targets: three checkpoint steps in the first 60% of the run, so that hundreds of steps
    # (seconds, even on a fast machine) remain after each kill; then a random moment past the checkpoint
    targets = sorted(rng.sample(range(30, 361, 30), 3))
    def steps_done():
        f = ckpt/'checkpoint.json'
        try: return json.loads(f.read_text())['step'] if f.exists() else 0
        except (OSError, ValueError, KeyError): return 0
    for target in targets:
        resumed_from.append(steps_done())
        p = subprocess.Popen([CTP, 'train', '--model', str(tiny), '--out', str(out), *TRAIN],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        while p.poll() is None and steps_done() < target: time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.1))
        assert p.poll() is None, f'the run ended before step {target}: nothing to kill'
        p.send_signal(signal.SIGKILL); p.wait(); kills += 1
        for f in tmp_path.rglob('*'):                 # nothing half-written is ever left behind
            if f.is_file() and f.suffix == '.safetensors': load_file(str(f))
            if f.is_file() and f.suffix == '.json': json.loads(f.read_text())
    assert not out.exists(), 'a killed run must not write the final prompt'
    assert steps_done() >= targets[-1]
    r = ctp('train', '--model', tiny, '--out', out, *TRAIN)   # the last run goes to the end
    assert r.returncode == 0, r.stderr[-2000:]
    assert kills == 3 and resumed_from[1:] == sorted(resumed_from[1:]) and resumed_from[-1] >= targets[1], (kills, resumed_from, targets)
    a, b = load_file(str(ref))['prompt'], load_file(str(out))['prompt']
    assert torch.equal(a, b), (a - b).abs().max()
