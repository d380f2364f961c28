"The `ctp` console script in its own process: help, and kill -9 then resume (bad inputs: test_bad_inputs.py)."
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
    from ctp.testing import tiny_model
    d = tmp_path_factory.mktemp('tiny')/'llama'
    m, t = tiny_model('llama', max_positions=2048); m.save_pretrained(d); t.save_pretrained(d)
    return d

def test_help_lists_commands():
    r = ctp('--help')
    assert r.returncode == 0
    for c in ('reproduce', 'compress', 'train', 'eval', 'docs'): assert c in r.stdout
    r = ctp('train', '--help')
    assert r.returncode == 0 and '--steps' in r.stdout and '(default: 200)' in r.stdout and '(default: deep)' in r.stdout and '(default: self)' in r.stdout

def test_python_m_ctp_cli_runs_the_command_line():
    "`python -m ctp.cli` is the `ctp` command, not a silent import."
    py = lambda *a: subprocess.run([sys.executable, '-m', 'ctp.cli', *a], capture_output=True, text=True, env=ENV)
    r = py('--help')
    assert r.returncode == 0 and r.stdout.startswith('usage: ctp <command>') and 'reproduce' in r.stdout, (r.stdout, r.stderr[-500:])
    r = py('train', '--help')
    assert r.returncode == 0 and '--steps' in r.stdout, r.stdout
    r = py('frobnicate')
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr, r.stderr[-500:]

# bad inputs (one line on stderr, status 2, nothing written): see tests/test_bad_inputs.py

TRAIN_ = ['--level', 'dense', '--steps', '600', '--n_tokens', '4', '--batch_size', '2', '--seq_len', '32', '--eval_every', '30', '--seed', '3']
KINDS = {'shallow': ['--kind', 'shallow', '--init', 'vocab', '--lr', '0.01'],   # the paper's prompt (ctp train's default before chapter 07a)
         'deep': []}                                                             # ctp train's default: deep, corpus start, lr 3e-2

@pytest.mark.parametrize('kind', list(KINDS))
def test_kill_and_resume_gives_the_same_prompt(tiny, tmp_path, kind):
    "SIGKILL `ctp train` at random moments after checkpoints, resume each time: the final prompt equals an uninterrupted run's."
    TRAIN = TRAIN_ + KINDS[kind]
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
    a, b = load_file(str(ref)), load_file(str(out))
    assert sorted(a) == sorted(b) == (['prompt'] if kind == 'shallow' else ['keys', 'values']), sorted(a)
    for k in a: assert torch.equal(a[k], b[k]), (k, (a[k] - b[k]).abs().max())
