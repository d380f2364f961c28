"Checks on the notebooks themselves: the conventions that keep the docs build and the library honest."
import ast, json, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted((ROOT/'nbs').glob('*.ipynb'))

def _cells(nb): return json.loads(nb.read_text())['cells']

def _directives(src):
    return {l.split('|', 1)[1].strip().split(':')[0].split()[0] for l in src.splitlines()
            if l.strip().startswith('#|') and l.split('|', 1)[1].strip()}

@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_no_imports_mixed_with_code(nb):
    "nbdev's docs processor runs every cell that imports something: such cells must hold imports only."
    for i, c in enumerate(_cells(nb)):
        if c['cell_type'] != 'code': continue
        src = ''.join(c['source'])
        if _directives(src) & {'export', 'exports', 'exporti', 'hide', 'eval'}: continue
        try: tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('%', '!'))))
        except SyntaxError: continue
        imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        assert not imports or len(imports) == len(tree.body), f'{nb.name} cell {i} mixes imports with other code:\n{src[:300]}'

@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_notebook_small_and_clean(nb):
    "Saved outputs stay small, and notebooks are stored as nbdev_clean leaves them."
    assert nb.stat().st_size < 2_000_000, f'{nb.name} is {nb.stat().st_size} bytes: trim its outputs'
    for c in _cells(nb):
        if c['cell_type'] == 'code': assert c.get('execution_count') is None, f'{nb.name}: run nbdev_clean'

def test_export_is_in_sync(tmp_path):
    "Exporting the notebooks again reproduces ctp/ exactly (never edit ctp/*.py by hand)."
    import shutil
    before = {p.relative_to(ROOT).as_posix(): p.read_text() for p in (ROOT/'ctp').rglob('*.py')}
    subprocess.run([str(Path(sys.executable).parent/'nbdev_export')], cwd=ROOT, check=True, capture_output=True)
    after = {p.relative_to(ROOT).as_posix(): p.read_text() for p in (ROOT/'ctp').rglob('*.py')}
    assert before == after, [k for k in after if before.get(k) != after[k]]
