"The design holds: no module imports another's private names, importing ctp leaves other libraries as they were, the import graph is the module map of the docs, and the top rooms (bench, demo, docs, cli) are imported by nothing below them."
import ast, json, re, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT/'ctp'
TOP = ('bench', 'demo', 'docs', 'cli')         # the rooms at the top: nothing below them imports them

def _module_files()->dict:
    "Dotted module name -> file, for every module of ctp/ (the generated `_modidx` left out)."
    out = {}
    for p in sorted(PKG.rglob('*.py')):
        if p.name == '_modidx.py' or '__pycache__' in p.parts: continue
        parts = list(p.relative_to(ROOT).with_suffix('').parts)
        if parts[-1] == '__init__': parts = parts[:-1]
        out['.'.join(parts)] = p
    return out

MODULES = _module_files()

def _package(mod:str)->str:
    "The package a module's relative imports start from."
    return mod if MODULES[mod].name == '__init__.py' else mod.rpartition('.')[0]

def _imports(mod:str):
    "Every import of ctp modules in `mod` (module level or inside functions): (line, target module, imported names)."
    tree = ast.parse(MODULES[mod].read_text())
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom):
            if n.level:
                base = _package(mod).split('.'); base = base[:len(base) - (n.level - 1)]
                target = '.'.join(base + ([n.module] if n.module else []))
            else: target = n.module or ''
            if target == 'ctp' or target.startswith('ctp.'): yield n.lineno, target, [a.name for a in n.names]
        elif isinstance(n, ast.Import):
            for a in n.names:
                if a.name == 'ctp' or a.name.startswith('ctp.'): yield n.lineno, a.name, []

def _room(dotted:str)->str|None:
    "The module of the map a dotted name belongs to (`ctp.compress.llmc` -> `compress`); None for the package itself."
    parts = dotted.split('.')
    return parts[1] if len(parts) > 1 else None

def _is_private(name:str)->bool: return name.startswith('_') and not (name.startswith('__') and name.endswith('__'))

# --- (a) no private names across modules -------------------------------------------------------------------------------

def _private_uses(mod:str)->list[str]:
    "Where `mod` takes a private name from another ctp module: `from x import _y`, or `x._y` on an imported ctp module."
    bad, aliases = [], {}                                   # local name -> ctp module it is bound to
    for line, target, names in _imports(mod):
        for a in names:
            sub = f'{target}.{a}'
            if sub in MODULES or (ROOT/Path(*sub.split('.'))).is_dir(): aliases[a] = sub   # `from ctp import compress`
            elif _is_private(a) and target != mod: bad.append(f'{mod}:{line} imports {a} from {target}')
    tree = ast.parse(MODULES[mod].read_text())
    for n in ast.walk(tree):                                # `import ctp.x as y` and `import ctp.x`
        if isinstance(n, ast.Import):
            for a in n.names:
                if a.name == 'ctp' or a.name.startswith('ctp.'):
                    if a.asname: aliases[a.asname] = a.name
                    else: aliases['ctp'] = 'ctp'
    def dotted(e):
        if isinstance(e, ast.Name): return aliases.get(e.id)
        if isinstance(e, ast.Attribute):
            base = dotted(e.value)
            return f'{base}.{e.attr}' if base else None
        return None
    for n in ast.walk(tree):
        if isinstance(n, ast.Attribute) and _is_private(n.attr):
            base = dotted(n.value)
            if base and base != mod: bad.append(f'{mod}:{n.lineno} uses {base}.{n.attr}')
    return bad

def test_private_checker_catches_each_form(tmp_path, monkeypatch):
    "The checker itself: each way of reaching a private name is caught, public names and a module's own names are not."
    src = ("from .core import *\nfrom .evaluate import _fit, lm_loss\nfrom ctp.soft_prompt import _x as y\n"
           "import ctp.models as M\nimport ctp.data\nfrom ctp import compress\n"
           "def f():\n    from . import core\n    return M._secret, ctp.data._HUB, compress._layer, core.seed_everything, M.__name__\n")
    (tmp_path/'ctp').mkdir(); (tmp_path/'ctp'/'probe.py').write_text(src)
    monkeypatch.setitem(MODULES, 'ctp.probe', tmp_path/'ctp'/'probe.py')
    for m in ('ctp.core', 'ctp.evaluate', 'ctp.soft_prompt', 'ctp.models', 'ctp.data', 'ctp.compress'): monkeypatch.setitem(MODULES, m, Path('x.py'))
    bad = _private_uses('ctp.probe')
    assert [b.split(' ', 1)[1] for b in bad] == ['imports _fit from ctp.evaluate', 'imports _x from ctp.soft_prompt',
                                                'uses ctp.models._secret', 'uses ctp.data._HUB', 'uses ctp.compress._layer'], bad

def test_no_private_imports_across_modules():
    "No module of ctp imports, or reaches through an imported module for, another ctp module's private (`_x`) names."
    bad = [b for m in MODULES for b in _private_uses(m)]
    assert not bad, 'private names taken from other modules:\n' + '\n'.join(bad)

# --- (c) the import graph is the module map ----------------------------------------------------------------------------

def module_map()->dict:
    "The module map of the docs (the table under '## The module map' in nbs/index.ipynb): module -> the modules it may import, in table order (`ctp.` left off)."
    cells = json.loads((ROOT/'nbs'/'index.ipynb').read_text())['cells']
    src = next(''.join(c['source']) for c in cells if ''.join(c['source']).startswith('## The module map'))
    out = {}
    for line in src.splitlines():
        cols = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cols) != 3 or not re.fullmatch(r'`ctp\.\w+`', cols[0]): continue
        out[cols[0].strip('`')[4:]] = [] if cols[2] == 'nothing' else re.findall(r'`ctp\.(\w+)`', cols[2])
    return out

def import_graph()->dict:
    "Which ctp module imports which (module level and inside functions), a package's modules counted as the package."
    g = {}
    for mod in MODULES:
        room = _room(mod)
        if room is None: continue
        deps = g.setdefault(room, set())
        for _, target, names in _imports(mod):
            subs = [_room(target)] if _room(target) else [n for n in names if f'ctp.{n}' in MODULES or (PKG/n).is_dir()]
            deps.update(s for s in subs if s != room)
    return g

def test_module_map_is_layered():
    "The map itself: each module may import only modules above it in the table (so the graph has no cycles)."
    mm = module_map()
    assert len(mm) >= 10, mm
    seen = set()
    for m, deps in mm.items():
        assert set(deps) <= seen, f'{m} may import {sorted(set(deps) - seen)}, which are not above it in the map'
        seen.add(m)
    for t in TOP: assert not any(t in deps for m, deps in mm.items() if m not in TOP), f'a module below the top imports {t}'

def test_import_graph_is_the_module_map():
    "Every module of ctp/ is in the docs' module map and imports exactly the modules the map says it may."
    mm, g = module_map(), import_graph()
    assert sorted(g) == sorted(mm), f'modules in ctp/ but not in the map: {sorted(set(g) - set(mm))}; in the map but not in ctp/: {sorted(set(mm) - set(g))}'
    diff = {m: dict(undeclared=sorted(g[m] - set(mm[m])), unused=sorted(set(mm[m]) - g[m])) for m in mm if g[m] != set(mm[m])}
    assert not diff, f'the imports differ from the module map in nbs/index.ipynb: {diff}'

# --- (b) and (d): what importing ctp does -------------------------------------------------------------------------------

_PROBE = r'''
import json, logging, os, sys, warnings, importlib
mods, libs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for l in libs: importlib.import_module(l)               # the libraries ctp's modules import, loaded first
import torch, transformers
from transformers import AttentionInterface
from transformers.masking_utils import AttentionMaskInterface
def state():
    return dict(attention=sorted(AttentionInterface._global_mapping), attention_funcs=[id(v) for _, v in sorted(AttentionInterface._global_mapping.items())],
                masks=sorted(AttentionMaskInterface._global_mapping), mask_funcs=[id(v) for _, v in sorted(AttentionMaskInterface._global_mapping.items())],
                threads=torch.get_num_threads(), interop=torch.get_num_interop_threads(), dtype=str(torch.get_default_dtype()),
                deterministic=torch.are_deterministic_algorithms_enabled(), grad=torch.is_grad_enabled(),
                warnings=[repr(f) for f in warnings.filters], environ=dict(os.environ),
                hf_verbosity=transformers.utils.logging.get_verbosity(), hf_bars=transformers.utils.logging.is_progress_bar_enabled(),
                levels={n: logging.getLogger(n).level for n in ('transformers', 'llmcompressor', 'compressed_tensors', 'torch', 'torch.fx._symbolic_trace', 'datasets', '')},
                handlers={n: len(logging.getLogger(n).handlers) for n in ('transformers', 'llmcompressor', '')})
ours = lambda: {m for m in sys.modules if m == 'ctp' or m.startswith('ctp.')}
before, loaded_by = state(), {}
for m in mods:
    had = ours(); importlib.import_module(m); loaded_by[m] = sorted(ours() - had)   # what importing m loaded first
after = state()
print(json.dumps(dict(changed={k: [before[k], after[k]] for k in before if before[k] != after[k]},
                      loaded=sorted(ours()), loaded_by=loaded_by)))
'''

def _third_party(mod:str)->list[str]:
    "The libraries `mod` imports at module level (not ctp, not inside functions)."
    out = []
    for n in ast.parse(MODULES[mod].read_text()).body:
        if isinstance(n, ast.Import): out += [a.name for a in n.names]
        elif isinstance(n, ast.ImportFrom) and not n.level and n.module != '__future__': out.append(n.module)
    return [l for l in out if l != 'ctp' and not l.startswith('ctp.')]

def _import_in_fresh_process(mods:list[str])->dict:
    libs = sorted({l for m in MODULES for l in _third_party(m)})
    r = subprocess.run([sys.executable, '-c', _PROBE, json.dumps(mods), json.dumps(libs)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])

def test_importing_ctp_changes_no_other_library():
    "Importing every ctp module in a fresh process leaves transformers' attention registries, torch's threads and defaults, warning filters, environment and library log levels as they were."
    res = _import_in_fresh_process(sorted(MODULES))
    assert not res['changed'], 'importing ctp changed: ' + json.dumps(res['changed'])[:3000]

BELOW_TOP = lambda: sorted(m for m in MODULES if _room(m) not in TOP)

def test_fixtures_only_in_the_benchmarks():
    "The test fixtures (`ctp.testing`: tiny models, a tiny tokenizer, a tiny GGUF file) are imported by no library module but the benchmarks'."
    users = sorted(m for m, deps in import_graph().items() if 'testing' in deps)
    assert users == ['bench'], f'modules importing ctp.testing: {users}'

def test_core_modules_do_not_import_the_top():
    "`import ctp` and each module below the top load none of ctp.bench, ctp.demo, ctp.docs, ctp.cli (cli loads bench only in its command)."
    mods = ['ctp'] + [m for m in BELOW_TOP() if m != 'ctp']
    assert len(mods) >= 9
    res = _import_in_fresh_process(mods)     # one process: what all of them load together is what each loads, at most
    assert 'ctp.core' in res['loaded'] and not [m for m in res['loaded'] if _room(m) in TOP], \
        {m: [x for x in new if _room(x) in TOP] for m, new in res['loaded_by'].items() if any(_room(x) in TOP for x in new)}

def test_cli_loads_bench_only_in_its_command():
    "Importing ctp.cli loads neither the benchmarks nor the demo nor the docs build: each is imported inside its own command."
    loaded = _import_in_fresh_process(['ctp.cli'])['loaded']
    assert 'ctp.cli' in loaded and not {'ctp.bench', 'ctp.demo', 'ctp.docs'} & set(loaded), loaded

# --- (d2) one prompt type ------------------------------------------------------------------------------------------------
# What a caller may pass as a prompt (a [P, H] tensor, a module returning one, a deep prompt, a DDP wrapper of either) is
# told apart in one place, `ctp.runtime.Prompt`; everything else asks the `Prompt` that `Prompt.of` returns. The six
# normalisers that did this before (about 40 calls from 6 modules) are gone, and no function outside the type unwraps
# DDP, looks for a deep prompt's `layer_kv` by name, or asks whether a prompt is a tensor.
GONE = {'prompt_embeds', 'prompt_for', 'prompt_value', 'prompt_kv', 'prompt_length', 'is_deep'}

def _prompt_inspections(tree)->list:
    "(line, what) for each place in `tree` that inspects a prompt's form: isinstance with Tensor or DistributedDataParallel on a name holding 'prompt', getattr/hasattr of 'layer_kv', isinstance of DistributedDataParallel on anything."
    out, name = [], lambda n: ast.unparse(n)
    for n in ast.walk(tree):
        if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Name)): continue
        if n.func.id == 'isinstance' and len(n.args) == 2:
            kinds = name(n.args[1])
            if 'DistributedDataParallel' in kinds or ('Tensor' in kinds and 'prompt' in name(n.args[0])): out.append((n.lineno, ast.unparse(n)))
        if n.func.id in ('getattr', 'hasattr') and len(n.args) >= 2 and isinstance(n.args[1], ast.Constant) and n.args[1].value == 'layer_kv':
            out.append((n.lineno, ast.unparse(n)))
    return out

def test_prompt_inspection_detector_catches_each_form():
    src = "def f(prompt, m):\n isinstance(prompt, torch.Tensor)\n isinstance(m, nn.parallel.DistributedDataParallel)\n getattr(m, 'layer_kv', None)\n hasattr(m, 'layer_kv')\n isinstance(m, torch.Tensor)"
    assert [l for l, _ in _prompt_inspections(ast.parse(src))] == [2, 3, 4, 5]     # a tensor check on a non-prompt name is not one

def test_one_prompt_type():
    "No normaliser of a prompt outside `ctp.runtime.Prompt`: the old ones are gone and no other function inspects a prompt's form."
    found = []
    for mod, f in MODULES.items():
        tree = ast.parse(f.read_text())
        found += [(mod, n.name) for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name in GONE]
        if mod == 'ctp.runtime':              # the type itself may look: take its class out of the tree
            tree.body = [n for n in tree.body if not (isinstance(n, ast.ClassDef) and n.name == 'Prompt')]
        found += [(mod, l, what) for l, what in _prompt_inspections(tree)]
    assert not found, found
    runtime = ast.parse(MODULES['ctp.runtime'].read_text())
    assert any(isinstance(n, ast.ClassDef) and n.name == 'Prompt' for n in runtime.body)

# --- (d3) the command line is a shell ------------------------------------------------------------------------------------
# cli.py parses arguments and prints; what a command does lives in the library (the main job in ctp.reproduce). The budget:
# each function's body (its signature and docstring aside) at most 30 lines, which is what checking the options, opening
# the model, calling the library and printing the result take today (the longest, `train`, is 27); no class; no tensor
# work (cli.py never names torch); and the whole file at most 420 lines. The main job's 380 lines of stages, report and
# run folder would break each of these, so they cannot drift back.
CLI_BODY, CLI_LINES = 30, 420

def test_cli_is_argument_handling():
    src = MODULES['ctp.cli'].read_text()
    tree = ast.parse(src)
    assert len(src.splitlines()) <= CLI_LINES, len(src.splitlines())
    assert not [n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    assert not [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == 'torch'] and 'import torch' not in src
    long = {}
    for n in tree.body:
        if not isinstance(n, ast.FunctionDef): continue
        body = n.body[1:] if isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant) else n.body
        if body and body[-1].end_lineno - body[0].lineno + 1 > CLI_BODY: long[n.name] = body[-1].end_lineno - body[0].lineno + 1
    assert not long, long
    from ctp.cli import COMMANDS
    from ctp.reproduce import reproduce
    assert COMMANDS['reproduce'] is reproduce        # the main job's command is the library's function itself

# --- (e) the reading path: compress -> train -> evaluate ----------------------------------------------------------------

PATH_ROOMS = {'core', 'models', 'data', 'hf_adapter', 'runtime', 'fast_loss', 'evaluate', 'compress', 'train', 'distill', 'soft_prompt', 'deep', 'recover'}
# The budgets grew with the method: since chapter 07b the default recipe also writes its training text with the dense
# model and distils from it (ctp.distill on the path), 128 more lines of the method than the LM recipe's 374.
PATH_BUDGET = 1400    # lines of the ctp functions the README's calls enter (1,361 when measured; 1,120 with the LM recipe)
METHOD_BUDGET = 525   # lines of the method's own functions that run on the path (502 when measured; 374 with the LM recipe;
                      # 521 since recover takes a function that loads the teacher, so ctp's commands can let it go)
# Calls against the map's direction, each through an object handed down rather than an import: the loop calls the
# loss and validation functions it was given, the runtime and the prompt file code call the prompt object's methods.
HANDED_DOWN = {('train', 'soft_prompt'), ('runtime', 'deep'), ('soft_prompt', 'deep')}   # each seen on the path (`reading_path.py --calls`)

def _function_nodes(mod:str)->dict:
    "{qualified name: ast node} of every function of `mod`."
    from reading_path import function_nodes
    return function_nodes(MODULES[mod])

def _guards(node)->bool:
    "Whether a function refuses something: it raises, warns, or returns what is wrong (`-> str|None`, as `*_reason`)."
    if node.returns is not None and ast.unparse(node.returns).replace(' ', '') == 'str|None': return True
    return any(isinstance(n, ast.Raise) or (isinstance(n, ast.Call) and ast.unparse(n.func).endswith('warn')) for n in ast.walk(node))

def test_reading_path(tmp_path, monkeypatch):
    "The README's calls (compress, recover, corpus_perplexity) on a tiny model touch only the path's modules, call across them only as the map allows or through objects handed down, and stay within the line budgets; the method's own lines within ~400."
    import math, torch
    from reading_path import run_path, role
    from ctp.testing import tiny_model
    monkeypatch.setenv('CTP_HOME', str(tmp_path))    # the text the teacher writes is cached there
    threads = torch.get_num_threads(); torch.set_num_threads(1)
    try: t, ppl = run_path(*tiny_model(), tiny_model()[0])
    finally: torch.set_num_threads(threads)
    assert math.isfinite(ppl) and ppl > 1, ppl
    pm, mm = t.per_module(), module_map()
    assert {_room(m) for m in pm} == PATH_ROOMS, sorted(pm)   # a package counts as one module
    upward = {(_room(a), _room(b)) for a, b in t.calls if _room(a) != _room(b) and _room(b) not in mm[_room(a)]}
    assert upward <= HANDED_DOWN, f'calls against the module map: {sorted(upward - HANDED_DOWN)}'
    total = sum(a for _, a, _ in pm.values())
    assert 500 < total <= PATH_BUDGET, f'the reading path is {total} lines of functions (budget {PATH_BUDGET}): {pm}'
    roles = t.per_role()
    assert sum(r[2] for r in roles.values()) == sum(r[2] for r in pm.values())       # each function in exactly one role
    assert 200 < roles['method'][2] <= METHOD_BUDGET, f"the method's own lines that ran: {roles['method'][2]} (budget {METHOD_BUDGET}): {roles}"
    unguarded = [f'{m}.{f}' for m, f in t.functions() if role(m, f) == 'guard' and not _guards(_function_nodes(m)[f])]
    assert not unguarded, f'named as guards but refuse nothing: {unguarded}'

def _table_rows(text:str)->dict:
    "{first cell: (functions, lines, lines that ran)} of each markdown table row of `text` whose last three cells are numbers."
    out = {}
    for line in text.splitlines():
        cols = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cols) >= 4 and all(c.isdigit() for c in cols[-3:]): out.setdefault(cols[0], tuple(int(c) for c in cols[-3:]))
    return out

def _index_rows()->dict:
    "The rows of the index's reading-path tables (from its paragraph on)."
    src = '\n'.join(''.join(c['source']) for c in json.loads((ROOT/'nbs'/'index.ipynb').read_text())['cells'])
    return _table_rows(src[src.index('**The reading path.**'):])

def test_index_reading_path_is_the_trace():
    "The index's two reading-path tables are what `python tests/reading_path.py` prints, in a fresh process (in this one, caches other tests filled would hide functions)."
    r = subprocess.run([sys.executable, str(ROOT/'tests'/'reading_path.py')], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    printed = _table_rows(r.stdout)
    assert len(printed) >= 15, r.stdout                    # 13 modules and 3 roles at least
    rows = _index_rows()
    differ = {k: (rows.get(k), v) for k, v in printed.items() if not k.startswith('all') and rows.get(k) != v}
    assert not differ, f"the index's reading-path tables differ from the trace (index, trace): {differ}"

# --- (f) every reach into another library's internals lies in an adapter -------------------------------------------------

def _own_private_attrs()->set:
    "Private attribute names ctp gives its own objects (`self._x = ...`): reading them on another object is not a reach into a library."
    out = set()
    for f in MODULES.values():
        for n in ast.walk(ast.parse(f.read_text())):
            if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name) and n.value.id == 'self': out.add(n.attr)
    return out

LIBRARY_MANAGED = {'forward', 'hf_quantizer'}   # attributes other libraries keep on their own objects: set from outside, a patch

def _reaches(src:str)->list[tuple[int, str]]:
    "Where the code `src` reaches into another library: a private import, a private attribute, a module attribute set, a method or quantizer replaced."
    tree, own, out = ast.parse(src), _own_private_attrs(), []
    modules = {a.asname or a.name.split('.')[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and not n.level and not (n.module or '').startswith('ctp'):
            if any(_is_private(x) for x in (n.module or '').split('.')) or any(_is_private(a.name) for a in n.names): out.append((n.lineno, ast.unparse(n)))
        elif isinstance(n, ast.Attribute):
            base = n.value.id if isinstance(n.value, ast.Name) else None
            if _is_private(n.attr) and base not in ('self', 'cls') and n.attr not in own and not re.fullmatch(r'_repr_\w+_', n.attr):
                out.append((n.lineno, ast.unparse(n)))
            elif isinstance(n.ctx, (ast.Store, ast.Del)) and (base in modules or (n.attr in LIBRARY_MANAGED and base != 'self')):
                out.append((n.lineno, ast.unparse(n)))
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == 'setattr' and n.args and \
             not (isinstance(n.args[0], ast.Name) and n.args[0].id == 'self'):
            out.append((n.lineno, ast.unparse(n)[:60]))
    return out

def test_reach_detector_catches_each_form():
    "The detector finds a private import, a private attribute, a module attribute set, setattr and a replaced forward, and passes ctp's own private attributes."
    src = ("import transformers.utils as tu\nfrom bitsandbytes.functional import _x\ndef f(m, c):\n    c._attn_implementation\n"
           "    tu.logging = None\n    setattr(tu, 'y', 1)\n    m.forward = None\n    m.hf_quantizer = None\n    self.forward = 1\n")
    assert [line for line, _ in _reaches(src)] == [2, 4, 5, 6, 7, 8], _reaches(src)   # not line 9: ctp's own forward

def test_library_internals_only_in_adapters():
    "Every reach into another library's internals (private names, patched module attributes, replaced methods) lies in a function the reading path counts as an adapter, and every adapter named there exists."
    from reading_path import ADAPTERS, role
    bad = []
    for mod in MODULES:
        fns = _function_nodes(mod)
        spans = sorted((n.lineno, n.end_lineno, q) for q, n in fns.items())
        for line, code in _reaches(MODULES[mod].read_text()):
            inside = [q for a, b, q in spans if a <= line <= b]
            where = inside[-1] if inside else '<module>'
            if role(mod, where) != 'adapter': bad.append(f'{mod}:{line} {where}: {code}')
    assert not bad, 'reaches into other libraries outside the adapters: ' + '; '.join(bad)
    for mod, names in ADAPTERS.items():
        assert mod in MODULES, mod
        tops = {q.split('.')[0] for q in _function_nodes(mod)} | {n.name for n in ast.parse(MODULES[mod].read_text()).body if isinstance(n, ast.ClassDef)}
        assert names is None or set(names) <= tops, (mod, set(names) - tops)
