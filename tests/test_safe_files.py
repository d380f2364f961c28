"Safe files: no pickle on any load path of ctp, no remote code unless asked, prompt files checked before use."
import ast, inspect
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT/'ctp').rglob('*.py'))                  # the compress package's modules too

def _rel(p:Path)->str: return p.relative_to(ROOT/'ctp').as_posix()   # 'models.py', 'compress/store.py'
UNSAFE_MODULES = {'pickle', 'cPickle', '_pickle', 'dill', 'cloudpickle', 'joblib', 'shelve', 'marshal'}

def _dotted(node)->str:
    "'torch.load' for the expression torch.load, '' for anything that is not a dotted name."
    parts = []
    while isinstance(node, ast.Attribute): parts.append(node.attr); node = node.value
    if isinstance(node, ast.Name): parts.append(node.id); return '.'.join(reversed(parts))
    return ''

def _is_true(node): return isinstance(node, ast.Constant) and node.value is True

def unsafe_loads(src:str)->list[str]:
    "Every unsafe load in a Python source: pickle-like modules, torch.load without weights_only=True, ..."
    bad = []
    for n in ast.walk(ast.parse(src)):
        line = getattr(n, 'lineno', 0)
        if isinstance(n, ast.Import):
            bad += [f'{line}: import {a.name}' for a in n.names if a.name.split('.')[0] in UNSAFE_MODULES]
        elif isinstance(n, ast.ImportFrom) and (n.module or '').split('.')[0] in UNSAFE_MODULES:
            # only the exception class may be imported, to turn a refused unpickling into a clear error
            bad += [f'{line}: from {n.module} import {a.name}' for a in n.names if a.name != 'UnpicklingError']
        elif isinstance(n, ast.Call):
            f, kw = _dotted(n.func), {k.arg: k.value for k in n.keywords}
            if f.endswith('torch.load'):
                if not _is_true(kw.get('weights_only')): bad.append(f'{line}: {f} without weights_only=True')
            if f.split('.')[-1] in ('read_pickle', 'Unpickler') or f in ('np.load', 'numpy.load') and _is_true(kw.get('allow_pickle')):
                bad.append(f'{line}: {f}')
            for k in ('trust_remote_code', 'allow_pickle'):
                if _is_true(kw.get(k)): bad.append(f'{line}: {f}({k}=True)')
            for k in ('weights_only', 'use_safetensors', 'safe_serialization'):
                if isinstance(kw.get(k), ast.Constant) and kw[k].value is False: bad.append(f'{line}: {f}({k}=False)')
    return bad

def test_the_scanner_finds_unsafe_loads():
    "The scan must be able to fail: each of these is caught."
    for src in ['import pickle', 'import dill', 'from joblib import load', 'torch.load(f)', 'x = torch.load(f, weights_only=False)',
                'AutoModel.from_pretrained(p, trust_remote_code=True)', 'np.load(f, allow_pickle=True)', 'pd.read_pickle(f)',
                'm.save_pretrained(d, safe_serialization=False)', 'from pickle import loads']:
        assert unsafe_loads(src), src
    for src in ['torch.load(f, weights_only=True)', 'from pickle import UnpicklingError', 'load_file(f)',
                'AutoModel.from_pretrained(p, trust_remote_code=trust_remote_code)', 'np.load(f)']:
        assert not unsafe_loads(src), src

@pytest.mark.parametrize('path', SOURCES, ids=_rel)
def test_no_unsafe_load_in_ctp(path):
    assert not unsafe_loads(path.read_text()), unsafe_loads(path.read_text())

def test_remote_code_off_unless_asked():
    from ctp.models import load_model
    assert inspect.signature(load_model).parameters['trust_remote_code'].default is False
    uses = [p.name for p in SOURCES if 'trust_remote_code' in p.read_text()]
    assert set(uses) <= {'models.py', '_modidx.py'}, uses        # one place decides, and it defaults to off

def test_prompt_files_checked_before_use(tmp_path):
    "A prompt file's format, shape and values are checked before its tensor is used; never unpickled."
    import torch
    from safetensors.torch import save_file
    from ctp.core import PromptFileError
    from ctp.soft_prompt import SoftPrompt, save_prompt, load_prompt, read_prompt_metadata
    f = save_prompt(SoftPrompt(3, 8, weight=torch.ones(3, 8)), tmp_path/'p.safetensors')
    md = {k: str(v) for k, v in read_prompt_metadata(f).items()}
    cases = {'ints': ({'prompt': torch.ones(3, 8, dtype=torch.int64)}, md, 'a prompt is a float'),
             'vector': ({'prompt': torch.ones(24)}, md, 'a prompt is a float'),
             'inf': ({'prompt': torch.full((3, 8), float('inf'))}, md, 'NaN or infinite'),
             'no format': ({'prompt': torch.ones(3, 8)}, {k: v for k, v in md.items() if k != 'format'}, 'not a ctp prompt file')}
    for name, (t, meta, msg) in cases.items():
        save_file(t, str(tmp_path/f'{name}.safetensors'), metadata=meta)
        with pytest.raises(PromptFileError, match=msg): load_prompt(tmp_path/f'{name}.safetensors')
    torch.save({'prompt': torch.ones(3, 8)}, tmp_path/'pickled.safetensors')
    with pytest.raises(PromptFileError, match='not a safetensors file'): load_prompt(tmp_path/'pickled.safetensors')
    assert torch.equal(load_prompt(f).weight.data, torch.ones(3, 8))

WRITES = {'write_text', 'write_bytes', 'savefig', 'save_file', 'save_pretrained', 'save', 'dump', 'to_csv', 'to_json'}
SHUTIL = {'copy', 'copy2', 'copyfile', 'move', 'copytree'}
# writes that are not inside `with atomic_write(...)`, each with the reason it is still all-or-nothing
NOT_ATOMIC_OK = {
    ('compress/bnb.py', 'to_bnb'): 'a throwaway TemporaryDirectory, read back at once',
    ('compress/store.py', 'save_compressed'): 'into a mkdtemp folder beside the target, renamed whole with os.replace',
    ('compress/store.py', 'copy_compressed'): 'into a mkdtemp folder beside the target, renamed whole with os.replace',
    ('compress/store.py', 'cache_lock'): 'an empty lock file for flock: it holds nothing to be half-written',
    ('compress/bnb.py', 'save_bnb'): "save_compressed's bitsandbytes save, into its mkdtemp folder (renamed whole with os.replace)",
    ('compress/llmc.py', 'save_packed'): "save_compressed's compressed-tensors save, into its mkdtemp folder (renamed whole with os.replace)",
    ('models.py', 'embedded_model_dir'): 'into a mkdtemp folder beside the target, renamed whole with os.replace',
    ('docs.py', 'nb_markdown'): 'the docs build staging folder, rebuilt from scratch on every build',
    ('docs.py', 'build_docs'): 'the docs build staging folder, rebuilt from scratch on every build',
    ('docs.py', '_code_pages'): 'the docs build staging folder, rebuilt from scratch on every build',
    ('transfer.py', '_put'): 'calls ResultStore.save, which writes through save_json (atomic_write)',
    ('soft_prompt.py', 'save_prompt'): "calls SoftPrompt.save, the prompt base class's save (atomic_write)",
    ('deep.py', 'save_deep_prompt'): "calls DeepPrompt.save, the prompt base class's save (atomic_write)",
    ('deep.py', 'save_any_prompt'): "calls the prompt's save, the prompt base class's (atomic_write)",
    ('serve.py', 'run_vllm'): "the request for vLLM, in a mkdtemp folder of its own that is removed when vLLM is done",
    ('vllm_kv.py', 'run_engines'): "inside vLLM's venv, without ctp.core: writes a temporary name, then os.replace (atomic by hand)",
    ('bench.py', '_reset_peak'): 'writes the kernel control file /proc/self/clear_refs (resets the peak-memory mark), no file of results',
    ('bench.py', 'training_memories'): "the token blocks for its child processes, in a mkdtemp folder of its own that is removed when they are done",
}

def write_sites(src:str)->set:
    "(function, call) of every file-writing call that is not inside a `with atomic_write(...)` block."
    found = set()
    def visit(node, fn, atomic):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)): fn = node.name
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(
                isinstance(i.context_expr, ast.Call) and _dotted(i.context_expr.func).endswith('atomic_write') for i in node.items):
            atomic = True
        if isinstance(node, ast.Call) and not atomic:
            f = _dotted(node.func) or getattr(node.func, 'attr', '')
            name = f.split('.')[-1]
            mode = node.args[1] if name == 'open' and len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == 'mode'), None)
            if name in WRITES or f.startswith('shutil.') and name in SHUTIL or name == 'open' and isinstance(mode, ast.Constant) and set(str(mode.value)) & set('wax'):
                found.add((fn, name))
        for c in ast.iter_child_nodes(node): visit(c, fn, atomic)
    visit(ast.parse(src), '<module>', False)
    return found

def test_every_result_file_is_written_atomically():
    "Results, prompts, checkpoints and figures go through atomic_write (temporary name, then rename)."
    assert write_sites("def f(p):\n    p.write_text('x')") == {('f', 'write_text')}          # the scan can fail
    assert write_sites("def f(p):\n    with atomic_write(p) as t: t.write_text('x')") == set()
    assert write_sites("def g(p):\n    with open(p, 'w') as f: f.write('x')") == {('g', 'open')}
    bad = {(_rel(p), fn, call) for p in SOURCES for fn, call in write_sites(p.read_text()) if (_rel(p), fn) not in NOT_ATOMIC_OK}
    assert not bad, bad

def test_teacher_files_checked_before_use(tmp_path):
    "A teacher cache file's format, tensor shapes and values are checked before use; never unpickled."
    import torch
    from safetensors.torch import save_file
    from ctp.core import PromptFileError
    from ctp.distill import TEACHER_FORMAT, TeacherCache, save_teacher, load_teacher
    meta = dict(model='m', model_fingerprint='0', tokenizer='', data='d', seq_len=4, k=2, vocab_size=8)
    rows, lp, ids, rest = torch.arange(12).view(3, 4), -torch.ones(3, 3, 2), torch.ones(3, 3, 2, dtype=torch.int32), -torch.ones(3, 3)
    f = save_teacher(TeacherCache(rows, lp, ids, rest, meta), tmp_path/'t.safetensors')
    md = {**{k: str(v) for k, v in meta.items()}, 'format': TEACHER_FORMAT}
    good = {'rows': rows.int(), 'logp': lp, 'ids': ids, 'rest': rest}
    cases = {'no format': (good, {k: v for k, v in md.items() if k != 'format'}, 'not a ctp teacher cache'),
             'no metadata key': (good, {k: v for k, v in md.items() if k != 'data'}, 'not a ctp teacher cache'),
             'shape': ({**good, 'logp': -torch.ones(3, 2, 2)}, md, 'is inconsistent'),
             'float rows': ({**good, 'rows': rows.float()}, md, 'is inconsistent'),
             'no ids': ({'rows': rows.int(), 'logp': lp}, md, 'is inconsistent'),
             'nan': ({**good, 'logp': lp * float('nan')}, md, 'holds NaN')}
    for name, (t, meta_, msg) in cases.items():
        save_file(t, str(tmp_path/f'{name}.safetensors'), metadata=meta_)
        with pytest.raises(PromptFileError, match=msg): load_teacher(tmp_path/f'{name}.safetensors')
    torch.save(good, tmp_path/'pickled.safetensors')
    with pytest.raises(PromptFileError, match='not a safetensors file'): load_teacher(tmp_path/'pickled.safetensors')
    assert torch.equal(load_teacher(f).logp, lp)
