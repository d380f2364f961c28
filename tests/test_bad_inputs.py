"""The catalogue of bad inputs: each one, through the library or the `ctp` command, ends in one `CTPError`
whose one-line message names the bad value and what is allowed (status 2 on the command line), and
nothing is written: not in the working folder, not next to the inputs, not in the cache."""
import json, os, subprocess, sys, tempfile
from pathlib import Path
import pytest
import torch
from safetensors.torch import save_file

BIN = Path(sys.executable).parent
CTP = str(BIN/'ctp')

@pytest.fixture(scope='module')
def a(tmp_path_factory):
    "Inputs good and bad: a tiny model folder, an encoder, prompt files of every kind of wrong."
    import transformers
    from ctp.testing import tiny_model
    from ctp.soft_prompt import SoftPrompt, save_prompt, read_prompt_metadata
    torch.set_num_threads(1)
    d = tmp_path_factory.mktemp('inputs')
    home = tmp_path_factory.mktemp('ctp_home')
    m, tok = tiny_model('llama', max_positions=256)
    m.save_pretrained(d/'tiny'); tok.save_pretrained(d/'tiny')
    transformers.BertConfig(vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=8).save_pretrained(d/'bert')
    (d/'empty').mkdir()
    m.save_pretrained(d/'cut'); tok.save_pretrained(d/'cut')
    w = (d/'cut'/'model.safetensors').read_bytes(); (d/'cut'/'model.safetensors').write_bytes(w[:len(w) // 2])
    m.save_pretrained(d/'evil'); tok.save_pretrained(d/'evil'); (d/'evil'/'model.safetensors').unlink()
    torch.save({'model.embed_tokens.weight': _Evil(str(d/'PWNED'))}, d/'evil'/'pytorch_model.bin')
    (d/'afile').write_text('a file, not a folder\n')
    (d/'model.txt').write_text('not a model\n')
    good = save_prompt(SoftPrompt.init_from(m, tok, 4), d/'p.safetensors')
    m32, _ = tiny_model('llama', hidden_size=32)
    save_prompt(SoftPrompt.init_from(m32, None, 4), d/'p32.safetensors')
    from ctp.deep import DeepPrompt, save_deep_prompt
    save_deep_prompt(DeepPrompt.init_from(tiny_model('llama', layers=3)[0], tok, 4, how='vocab'), d/'deep3.safetensors')  # a deep prompt for 3 layers
    b = good.read_bytes()
    (d/'trunc.safetensors').write_bytes(b[:len(b) // 2])                  # a copy cut short
    (d/'text.safetensors').write_text('{"prompt": [1, 2, 3]}\n')          # not safetensors at all
    torch.save({'prompt': torch.zeros(4, 64)}, d/'pickle.safetensors')    # a pickle under a safetensors name
    save_file({'x': torch.zeros(2)}, str(d/'other.safetensors'))          # safetensors, but not a prompt
    md = {k: str(v) for k, v in read_prompt_metadata(good).items()}
    save_file({'prompt': torch.full((4, 64), float('nan'))}, str(d/'nan.safetensors'), metadata=md)
    save_file({'prompt': torch.zeros(5, 64)}, str(d/'odd.safetensors'), metadata=md)  # metadata say 4 x 64
    (d/'ckpt').mkdir(); (d/'ckpt'/'checkpoint.json').write_text('[1, 2]\n')           # a damaged checkpoint
    old = os.environ.get('CTP_HOME'); os.environ['CTP_HOME'] = str(home)
    class A: pass
    x = A(); x.d, x.home, x.model, x.tok = d, home, m, tok
    yield x
    if old is None: os.environ.pop('CTP_HOME', None)
    else: os.environ['CTP_HOME'] = old

class _Evil:
    "A pickle that runs a command when unpickled (it must never be)."
    def __init__(self, path): self.path = path
    def __reduce__(self): return (os.system, (f'touch {self.path}',))

def _tree(*roots):
    "Every path under `roots` with its size and modification time: to see that nothing was written."
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for r in roots for p in Path(r).rglob('*')}

def _blocks(n=8, T=32, seed=0): return torch.randint(3, 300, (n, T), generator=torch.Generator().manual_seed(seed))

def _cfg(**kw):
    from ctp.train import TrainConfig
    return TrainConfig(**{**dict(n_tokens=4, seq_len=32, steps=2, warmup=0, batch_size=2, eval_blocks=2), **kw})

def _lib():
    "(id, call(a), error class name, fragments the message must contain): the library's part of the catalogue."
    from ctp.models import load_model
    from ctp.testing import tiny_model
    from ctp.compress import Level, compress
    from ctp.data import load_corpus, load_task, token_blocks
    from ctp.evaluate import perplexity, zero_shot
    from ctp.soft_prompt import SoftPrompt, train_prompt, load_prompt, save_prompt
    from ctp.deep import DeepPrompt, load_deep_prompt
    from ctp.train import TrainConfig
    from ctp.core import get_device, get_dtype
    return [
    ('unknown model', lambda a: load_model('no-such-org/no-such-model'), 'ModelError', ["unknown model 'no-such-org/no-such-model'", 'smollm2-135m']),
    ('missing model path', lambda a: load_model('/no/such/model'), 'ModelError', ["no such model path '/no/such/model'", 'allowed:']),
    ('folder without a model', lambda a: load_model(a.d/'empty'), 'ModelError', ['no model in folder', 'empty', 'config.json']),
    ('file that is no model', lambda a: load_model(a.d/'model.txt'), 'ModelError', ['model.txt', 'not a GGUF file', 'allowed:']),
    ('model weights cut short', lambda a: load_model(a.d/'cut'), 'ModelError', ["weights of '", "cut'", 'allowed: a complete safetensors']),
    ('model weights a pickle with code', lambda a: load_model(a.d/'evil'), 'ModelError', ["evil'", 'pickle holding more than tensors', 'allowed: safetensors']),
    ('encoder, not causal', lambda a: load_model(a.d/'bert'), 'ModelError', ["'bert' model, not a causal LM", 'decoder-only']),
    ('sparsity 150%', lambda a: Level.parse('w4s150'), 'CompressionError', ["'w4s150'", 'in (0, 100)']),
    ('sparsity 100%', lambda a: Level.parse('s100'), 'CompressionError', ["'s100'", 'in (0, 100)']),
    ('5 bits', lambda a: Level.parse('w5'), 'CompressionError', ["'w5'", 'allowed: 2, 3, 4, 8']),
    ('nf3', lambda a: Level.parse('nf3'), 'CompressionError', ["'nf3'", 'Grammar:']),
    ('empty level', lambda a: Level.parse(''), 'CompressionError', ['it is empty', 'Grammar:']),
    ('N:M with N > M', lambda a: Level.parse('4:2'), 'CompressionError', ["'4:2'", '0 < N < M']),
    ('unknown method', lambda a: Level.parse('w4@obs'), 'CompressionError', ["'obs'", 'allowed: sparsegpt']),
    ('group not dividing width', lambda a: compress(tiny_model('llama')[0], 'w4g48', progress=False), 'CompressionError',
     ['group size 48 does not divide the input width 64', 'divisors of 64']),
    ('unknown corpus', lambda a: load_corpus('wikitext'), 'DataError', ["unknown corpus 'wikitext'", 'allowed: wiki']),
    ('unknown split', lambda a: load_corpus('wiki', 'dev'), 'DataError', ["unknown split 'dev'", 'allowed: train, valid, test']),
    ('unknown task', lambda a: load_task('nosuch'), 'DataError', ["unknown task 'nosuch'", 'allowed: piqa']),
    ('empty text', lambda a: token_blocks(a.tok, [''], seq_len=32), 'DataError', ['0 tokens', 'need at least seq_len=32']),
    ('too-short text', lambda a: token_blocks(a.tok, ['hi there'], seq_len=32), 'DataError', ['too little text', 'need at least seq_len=32']),
    ('sequence + prompt > context', lambda a: perplexity(a.model, _blocks(2, 200), prompt=torch.zeros(100, 64)), 'ConfigError',
     ['200 + prompt length 100 = 300', 'context of 256', 'at most 156']),
    ('training past the context', lambda a: train_prompt(a.model, _blocks(8, 250), _blocks(2, 250), _cfg(seq_len=250, n_tokens=10)),
     'ConfigError', ['250 + prompt length 10', 'context of 256']),
    ('prompt length 0', lambda a: SoftPrompt(0, 64), 'ConfigError', ['n_tokens', 'got 0', '[1, inf]']),
    ('prompt length -3', lambda a: TrainConfig(n_tokens=-3), 'ConfigError', ['n_tokens', 'got -3', '[1, 100000]']),
    ('prompt for another width', lambda a: load_prompt(a.d/'p32.safetensors', a.model), 'PromptFileError',
     ['hidden size 32', 'input width 64']),
    ('deep prompt for another cache shape', lambda a: load_deep_prompt(a.d/'deep3.safetensors', a.model), 'PromptFileError',
     ['deep3.safetensors', 'keys and values for 3 layers', 'a deep prompt only fits models of its own cache shape']),
    ('deep prompt file to the soft loader', lambda a: load_prompt(a.d/'deep3.safetensors'), 'PromptFileError', ['is a deep prompt', 'ctp.deep.load_deep_prompt']),
    ('training a deep prompt of another shape', lambda a: train_prompt(a.model, _blocks(), _blocks(), _cfg(), prompt=DeepPrompt(4, 3, 4, 16)), 'ConfigError',
     ['keys and values for 3 layers', 'has 2']),
    ('deep corpus start without blocks', lambda a: DeepPrompt.init_from(a.model, a.tok, 4, how='corpus'), 'ConfigError', ["how='corpus' needs the training blocks", 'blocks=']),
    ('truncated prompt file', lambda a: load_prompt(a.d/'trunc.safetensors', a.model), 'PromptFileError', ['trunc.safetensors', 'not a safetensors file']),
    ('text in a .safetensors', lambda a: load_prompt(a.d/'text.safetensors'), 'PromptFileError', ['text.safetensors', 'not a safetensors file']),
    ('pickle in a .safetensors', lambda a: load_prompt(a.d/'pickle.safetensors'), 'PromptFileError', ['pickle.safetensors', 'not a safetensors file']),
    ('safetensors, not a prompt', lambda a: load_prompt(a.d/'other.safetensors'), 'PromptFileError', ['not a ctp prompt file', "['x']"]),
    ('NaN prompt file', lambda a: load_prompt(a.d/'nan.safetensors', a.model), 'PromptFileError', ['nan.safetensors', 'NaN or infinite']),
    ('metadata and tensor disagree', lambda a: load_prompt(a.d/'odd.safetensors'), 'PromptFileError', ['metadata say 4 x 64', 'tensor is 5 x 64']),
    ('missing prompt file', lambda a: load_prompt(a.d/'none.safetensors'), 'PromptFileError', ['no prompt file at', 'none.safetensors']),
    ('steps 0', lambda a: TrainConfig(steps=0), 'ConfigError', ['steps', 'got 0', '[1, 10000000]']),
    ('steps 1.5', lambda a: TrainConfig(steps=1.5), 'ConfigError', ['steps must be a whole number', '1.5']),
    ('lr 0', lambda a: TrainConfig(lr=0), 'ConfigError', ['lr', 'got 0', '(0, 1]']),
    ('lr NaN', lambda a: TrainConfig(lr=float('nan')), 'ConfigError', ['lr', 'got nan', '(0, 1]']),
    ('lr 5', lambda a: TrainConfig(lr=5), 'ConfigError', ['lr', 'got 5', '(0, 1]']),
    ('batch size 0', lambda a: TrainConfig(batch_size=0), 'ConfigError', ['batch_size', 'got 0']),
    ('output folder is a file', lambda a: save_prompt(SoftPrompt(4, 64), a.d/'afile'/'p.safetensors'), 'ConfigError',
     ["afile' is a file", 'a folder is needed']),
    ('damaged checkpoint', lambda a: train_prompt(a.model, _blocks(), _blocks(), _cfg(), checkpoint_dir=a.d/'ckpt'), 'PromptFileError',
     ['checkpoint.json', 'not a ctp checkpoint']),
    ('unknown prompt init', lambda a: SoftPrompt.init_from(a.model, a.tok, 4, how='zeros'), 'ConfigError', ["'zeros'", 'allowed: vocab, sample, text, random']),
    ('float token ids', lambda a: train_prompt(a.model, _blocks().float(), _blocks(), _cfg()), 'DataError', ['train_blocks', 'tensor of token ids']),
    ('zero questions', lambda a: zero_shot(a.model, a.tok, 'piqa', n=0), 'DataError', ['n must be', 'got 0']),
    ('unknown device', lambda a: get_device('tpu'), 'ConfigError', ["unknown device 'tpu'", 'allowed: auto, cpu']),
    ('unknown dtype', lambda a: get_dtype('fp8'), 'ConfigError', ["unknown dtype 'fp8'", 'allowed: auto, fp32']),
    ]

LIB = _lib()

@pytest.mark.parametrize('case', LIB, ids=[c[0] for c in LIB])
def test_library(case, a, tmp_path, monkeypatch):
    from ctp.core import CTPError
    name, call, err, frags = case
    monkeypatch.chdir(tmp_path)
    before = _tree(a.d, a.home)
    with pytest.raises(CTPError) as e: call(a)
    assert type(e.value).__name__ == err, (type(e.value).__name__, str(e.value))
    msg = str(e.value)
    assert '\n' not in msg and len(msg) < 700, msg
    for f in frags: assert f in msg, (f, msg)
    assert _tree(a.d, a.home) == before and list(tmp_path.iterdir()) == [], 'a refused call must write nothing'
    assert not (a.d/'PWNED').exists(), 'code inside a pickle ran'

# --- the command line: the same promise in its own process, status 2 and one line on stderr -----------------

CLI = [   # (args; '{d}' is the inputs folder), fragments of the one stderr line
    (('frobnicate',), ["unknown command 'frobnicate'", 'allowed: eval, compress']),
    (('compress', '--level', 'w4s150'), ["'w4s150'", 'in (0, 100)']),
    (('eval', '--model', '/no/such/model'), ["no such model path '/no/such/model'"]),
    (('eval', '--model', '{d}/bert'), ["'bert' model, not a causal LM"]),
    (('eval', '--model', '{d}/tiny', '--level', 'nf3'), ["'nf3'", 'Grammar:']),
    (('eval', '--model', '{d}/tiny', '--tasks', 'piqa,nosuchtask'), ["unknown task 'nosuchtask'", 'allowed: piqa']),
    (('eval', '--model', '{d}/tiny', '--corpora', 'wikitext'), ["unknown corpus 'wikitext'", 'allowed: wiki']),
    (('eval', '--model', '{d}/tiny', '--prompt', '{d}/p32.safetensors', '--tasks', ''), ['hidden size 32', 'input width 64']),
    (('eval', '--model', '{d}/tiny', '--prompt', '{d}/trunc.safetensors', '--tasks', ''), ['trunc.safetensors', 'not a safetensors file']),
    (('eval', '--model', '{d}/tiny', '--device', 'tpu'), ["unknown device 'tpu'", 'allowed: auto, cpu']),
    (('eval', '--model', '{d}/tiny', '--level', 'dense', '--prompt', '{d}/deep3.safetensors', '--tasks', ''), ['deep3.safetensors', 'a deep prompt only fits models of its own cache shape']),
    (('train', '--model', '{d}/tiny', '--kind', 'wide', '--out', 'x.safetensors'), ["'wide'", 'allowed: shallow, deep']),
    (('train', '--model', '{d}/tiny', '--out', 'prompt.pt'), ["'prompt.pt'", 'must end in .safetensors']),
    (('train', '--model', '{d}/tiny', '--steps', '0', '--out', 'x.safetensors'), ['steps must be a number', 'got 0']),
    (('train', '--model', '{d}/tiny', '--steps', 'many'), ["invalid int value: 'many'", "see 'ctp train --help'"]),
    (('train', '--model', '{d}/tiny', '--lr', '-1', '--out', 'x.safetensors'), ['lr must be a number in (0, 1]', 'got -1']),
    (('train', '--model', '{d}/tiny', '--n_tokens', '0', '--out', 'x.safetensors'), ['n_tokens', 'got 0']),
    (('train', '--model', '{d}/tiny', '--out', '{d}/afile/p.safetensors'), ["afile' is (inside) a file", 'a folder is needed']),
    (('train', '--model', '{d}/tiny', '--level', 'dense', '--corpus', 'nosuch', '--out', 'x.safetensors'), ["unknown corpus 'nosuch'", 'allowed: wiki']),
    (('train', '--model', '{d}/tiny', '--level', 'dense', '--seq_len', '250', '--n_tokens', '10', '--steps', '2', '--out', 'x.safetensors'),
     ['250 + prompt length 10', 'context of 256']),
    (('reproduce', '--model', '{d}/tiny', '--out', '{d}/afile'), ["'{d}/afile' is a file", 'a folder is needed']),
    # checks that need no model come before any model loads: a level that compresses caches nothing when refused
    (('eval', '--model', '{d}/tiny', '--level', 'w4g32@rtn', '--prompt', '{d}/p32.safetensors', '--tasks', ''), ['hidden size 32', 'input width 64']),
    (('eval', '--model', '{d}/tiny', '--level', 'w4g32@rtn', '--prompt', '{d}/none.safetensors', '--tasks', ''), ['no prompt file at', 'none.safetensors']),
    (('transfer', '--model', '{d}/tiny', '--levels', 'w4g32@rtn', '--prompts', '{d}/p32.safetensors', '--store', 's.json'), ['hidden size 32', 'input width 64']),
    (('reproduce', '--model', '{d}/tiny', '--level', 'w4g32@rtn', '--unseen', 'nosuch', '--out', 'r'), ["unknown corpus 'nosuch'", 'allowed: wiki']),
    (('train', '--model', '{d}/tiny', '--level', 'w4g32@rtn', '--corpus', 'nosuch', '--out', 'x.safetensors'), ["unknown corpus 'nosuch'", 'allowed: wiki']),
]

@pytest.mark.parametrize('args,frags', CLI, ids=[' '.join(c[0][:3]) if len(c[0]) < 5 else ' '.join(c[0][:1] + c[0][3:5]) for c in CLI])
def test_command_line(args, frags, a, tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1', TOKENIZERS_PARALLELISM='false',
               OMP_NUM_THREADS='1', CTP_HOME=str(a.home))
    args = [s.replace('{d}', str(a.d)) for s in args]
    before = _tree(a.d, a.home)
    r = subprocess.run([CTP, *args], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f'ctp {args[0]}: error:' if args[0] in ('train', 'eval', 'compress', 'reproduce', 'transfer') else 'ctp: error:'), r.stderr[-2000:]
    for f in frags: assert f.replace('{d}', str(a.d)) in lines[0], (f, lines[0])
    assert _tree(a.d, a.home) == before and list(tmp_path.iterdir()) == [], 'a refused command must write nothing'

def test_catalogue_size():
    "The brief asks for at least 20 bad inputs across the library and the command line."
    assert len(LIB) + len(CLI) >= 25 and len(CLI) >= 10, (len(LIB), len(CLI))
