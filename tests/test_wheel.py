"""The installed package, as a user gets it: a wheel built from the repository, installed without extras beside
only what its requirements pull in, imports ctp and answers `ctp --help` and `ctp train --help`; `ctp demo`,
`ctp eval --harness` and `ctp docs` say which extra installs what they lack (ipywidgets, lm-eval, the docs builder's).

No network: the requirements' closure is taken from this venv (each distribution's own files, linked into a fresh
site folder), so the check is that the declared requirements suffice, not that PyPI serves them."""
import os, re, subprocess, sys, zipfile
from importlib import metadata
from pathlib import Path
from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
DEV_ONLY = ('nbdev', 'pytest', 'sphinx', 'execnb', 'playwright')      # settings.ini's dev_requirements (not installed for users)

def _closure(reqs:list)->dict:
    "{name: Distribution} of `reqs` and everything they require (markers evaluated, no extras), from this venv."
    env, out, todo = default_environment(), {}, list(reqs)
    while todo:
        r = Requirement(todo.pop())
        if r.marker is not None and not r.marker.evaluate({**env, 'extra': ''}): continue
        key = re.sub(r'[-_.]+', '-', r.name).lower()
        if key in out: continue
        out[key] = metadata.distribution(r.name)
        todo += out[key].requires or []
    return out

def _link_site(dists:dict, site:Path):
    "A site folder holding links to each distribution's top-level files and its metadata."
    site.mkdir()
    for d in dists.values():
        base = Path(d.locate_file(''))
        for top in {f.parts[0] for f in d.files or [] if not f.parts[0].startswith('..')}:
            src, dst = base/top, site/top
            if src.exists() and not dst.exists(): dst.symlink_to(src)

def _source(dst:Path)->Path:
    "What the wheel is built from, copied out of the checkout (an in-tree build would leave build/ and ctp.egg-info there)."
    import shutil
    dst.mkdir()
    for f in ('setup.py', 'settings.ini', 'pyproject.toml', 'README.md'): shutil.copy(ROOT/f, dst/f)
    shutil.copytree(ROOT/'ctp', dst/'ctp', ignore=shutil.ignore_patterns('__pycache__'))
    return dst

def test_wheel_without_dev_extras(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', tmp_path/'dist', _source(tmp_path/'src')],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert not (ROOT/'ctp.egg-info').exists() and not (ROOT/'build').exists()   # the checkout left as it was (its venvs read metadata from there)
    whl, = (tmp_path/'dist').glob('ctp-*.whl')
    names = zipfile.ZipFile(whl).namelist()
    assert any(n.startswith('ctp/') for n in names) and not any(n.startswith(('tests/', 'nbs/', 'scripts/')) for n in names)
    meta = next(n for n in names if n.endswith('.dist-info/METADATA'))
    reqs = [l.split(':', 1)[1].strip() for l in zipfile.ZipFile(whl).read(meta).decode().splitlines() if l.startswith('Requires-Dist:')]
    runtime = [q for q in reqs if 'extra ==' not in q]
    site = tmp_path/'site'
    _link_site(_closure(runtime), site)
    r = subprocess.run([sys.executable, '-m', 'pip', 'install', '--no-deps', '--no-compile', '-q', '--target', tmp_path/'ctp-site', whl],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    boot = ("import site, sys, runpy; site.addsitedir({a!r}); site.addsitedir({b!r}); "
            "sys.argv = ['ctp'] + sys.argv[1:]; runpy.run_path({s!r}, run_name='__main__')")
    boot = boot.format(a=str(tmp_path/'ctp-site'), b=str(site), s=str(tmp_path/'ctp-site'/'bin'/'ctp'))
    env = {'PATH': os.environ.get('PATH', ''), 'HOME': str(tmp_path), 'HF_HUB_OFFLINE': '1', 'HF_DATASETS_OFFLINE': '1'}
    py = [sys._base_executable, '-S']        # the interpreter without this venv or any site-packages: only the two folders
    probe = subprocess.run(py + ['-c', f"import site; site.addsitedir({str(tmp_path/'ctp-site')!r}); site.addsitedir({str(site)!r}); "
                                 "import importlib.util as u, ctp, ctp.cli; print(ctp.__file__); "
                                 f"print([m for m in {DEV_ONLY!r} if u.find_spec(m)])"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert probe.returncode == 0, probe.stderr[-3000:]
    where, dev = probe.stdout.splitlines()[-2:]
    assert where.startswith(str(tmp_path/'ctp-site')) and dev == '[]', probe.stdout     # the wheel's ctp; no dev package in sight
    for args in (['--help'], ['train', '--help']):
        r = subprocess.run(py + ['-c', boot] + args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, (args, r.stderr[-3000:])
        assert ('commands:' in r.stdout) if args == ['--help'] else ('--kd_topk' in r.stdout), r.stdout[-2000:]
    extras = subprocess.run(py + ['-c', f"import site; site.addsitedir({str(tmp_path/'ctp-site')!r}); site.addsitedir({str(site)!r}); "
                                  "import importlib.util as u; print([m for m in ('lm_eval', 'ipywidgets') if u.find_spec(m)])"],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert extras.stdout.split()[-1] == '[]', extras.stdout         # the extras' requirements are not installed with ctp
    for args, extra in ((['demo'], 'demo'), (['eval', '--harness', 'piqa'], 'harness'), (['docs', '--out', str(tmp_path/'site')], 'dev')):   # each says how to install what it lacks, before any model loads
        r = subprocess.run(py + ['-c', boot] + args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert r.returncode == 2 and f"pip install 'ctp[{extra}]'" in r.stderr, (args, r.returncode, r.stderr[-2000:])
