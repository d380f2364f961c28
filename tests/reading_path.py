"""The reading path: the ctp code a reader follows from compress to train to evaluate, measured by tracing it.

`python tests/reading_path.py` runs the four calls of the README's "In Python" (on a tiny model, with a tiny
training config; the embedded model runs the same ctp code) under a tracer and prints, per module, the lines
of the ctp functions the calls entered and the lines that ran, split by what each function is for (`role`):
the method itself, a guard (it refuses bad input, or says why a fast path does not apply) or an adapter (it
reaches into another library's internals). tests/test_design.py holds the totals to budgets.
"""
import ast, collections, os, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT/'ctp'

ROLES = ('method', 'guard', 'adapter')
# Adapters: the modules, or the top-level names in a module, that reach into another library's internals (each
# names the version it was written for: LLMC_TESTED, BNB_TESTED, TRANSFORMERS_TESTED, TORCH_TESTED) or silence its logging.
ADAPTERS = {'ctp.compress.llmc': None, 'ctp.compress.bnb': None, 'ctp.vllm_kv': None,   # None: the whole module
            'ctp.compress.packed': {'to_packed'},   # swaps the layers transformers loaded packed (CT_TESTED, via check_llmc)
            'ctp.hf_adapter': None,   # the shared prefix's cache, the padded kernel, attention switched for a call, recomputation (TRANSFORMERS_TESTED)
            'ctp.models': {'hf_quiet', 'plain_after_gguf'},
            'ctp.plan': None}      # the memory plan runs on torch's fake tensors and a dispatch mode (TORCH_TESTED)
# Guards, by name: they raise on what they refuse (or warn), or return the reason a fast path does not apply.
GUARD = re.compile(r'(^|\.)_?check_|_reason$|(^|\.)_problem$|\.__post_init__$')

def role(module:str, name:str)->str:
    "What the function `name` (qualified: `Class.method`) of `module` is for: 'method', 'guard' or 'adapter'."
    a = ADAPTERS.get(module, ())
    if a is None or name.split('.')[0] in a: return 'adapter'
    return 'guard' if GUARD.search(name) else 'method'

def function_nodes(path:Path)->dict:
    "{qualified name (`Class.method`, `outer.inner`): ast node} of every function of a file."
    out = {}
    def walk(node, prefix):
        for n in ast.iter_child_nodes(node):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)): out[prefix + n.name] = n; walk(n, prefix + n.name + '.')
            elif isinstance(n, ast.ClassDef): walk(n, prefix + n.name + '.')
            else: walk(n, prefix)
    walk(ast.parse(Path(path).read_text()), '')
    return out

def _defs(path:Path)->dict:
    "For each function of a file: its first line (decorators included), its last and its qualified name, keyed by the lines its code object may report."
    out = {}
    for q, n in function_nodes(path).items():
        first = min([n.lineno] + [d.lineno for d in n.decorator_list])
        out[first] = out[n.lineno] = (first, n.end_lineno, q)
    return out

class PathTracer:
    "Records which ctp functions run (and which of their lines) while it is active."
    def __init__(self): self.entered, self.lines, self.calls = {}, collections.defaultdict(set), collections.Counter()
    def _trace(self, frame, event, arg):
        f = frame.f_code.co_filename
        if not f.startswith(str(PKG)): return None
        self.entered.setdefault((f, frame.f_code.co_firstlineno), len(self.entered))   # in the order first entered
        caller = frame.f_back
        while caller is not None and not caller.f_code.co_filename.startswith(str(PKG)): caller = caller.f_back
        if caller is not None and caller.f_code.co_filename != f: self.calls[(module_of(caller.f_code.co_filename), module_of(f))] += 1
        lines = self.lines[f]
        def local(fr, ev, a):
            if ev == 'line': lines.add(fr.f_lineno)
            return local
        return local
    def __enter__(self): sys.settrace(self._trace); return self
    def __exit__(self, *exc): sys.settrace(None)

    def functions(self)->dict:
        "{(module, function): (its lines, lines of it that ran)} of every ctp function entered, in the order first entered (nested functions counted in their parent's)."
        spans, cache = collections.defaultdict(set), {}
        for f, first in sorted(self.entered, key=self.entered.get):
            d = cache.setdefault(f, _defs(Path(f)))
            if first in d: spans[f].add(d[first])
        out = {}
        order = {}
        for f, first in self.entered:
            d = cache[f]
            if first in d: order.setdefault((f, d[first]), self.entered[(f, first)])
        found = [(order[(f, s)], f, s) for f, ss in spans.items() for s in ss
                 if not any(a2 <= s[0] and s[1] <= b2 and (a2, b2) != s[:2] for a2, b2, _ in ss)]   # a function inside another entered one is read with it
        return {(module_of(f), name): (b - a + 1, sum(a <= l <= b for l in self.lines[f])) for _, f, (a, b, name) in sorted(found)}

    def per_module(self)->dict:
        "{module: (functions entered, their lines, lines that ran)}, a package's modules counted as the package."
        room = lambda m: '.'.join(m.split('.')[:2])
        out = collections.defaultdict(lambda: [0, 0, 0])
        for (m, _), (n, ran) in self.functions().items():
            r = out[room(m)]; r[0] += 1; r[1] += n; r[2] += ran
        return {m: tuple(out[m]) for m in sorted(out)}

    def per_role(self)->dict:
        "{role: (functions entered, their lines, lines that ran)} for the roles of `ROLES`."
        out = {r: [0, 0, 0] for r in ROLES}
        for (m, f), (n, ran) in self.functions().items():
            r = out[role(m, f)]; r[0] += 1; r[1] += n; r[2] += ran
        return {r: tuple(v) for r, v in out.items()}

def module_of(path:str)->str:
    "ctp.x for ctp/x.py, ctp.compress.x for ctp/compress/x.py."
    p = Path(path).relative_to(ROOT).with_suffix('')
    return '.'.join(p.parts[:-1] if p.name == '__init__' else p.parts)

def run_path(model, tok, teacher, config=None)->tuple[PathTracer, float]:
    "compress -> recover -> corpus_perplexity, as the README's calls, traced (`teacher`: the dense model); returns the tracer and the prompted perplexity."
    from ctp.compress import compress
    from ctp.recover import recover, recipe_config
    from ctp.evaluate import corpus_perplexity
    config = config or recipe_config(n_tokens=4, steps=2, seq_len=64, eval_every=2, eval_blocks=2, checkpoint_every=2)
    with PathTracer() as t:
        compress(model, 'w4s50', tokenizer=tok, n=2, seq_len=64, progress=False)
        res = recover(model, tok, teacher=teacher, config=config, max_blocks=4)
        ppl = corpus_perplexity(model, tok, 'wiki', seq_len=64, max_blocks=2, prompt=res.prompt)
    return t, ppl

def _table(rows:dict, first:str, total:str)->str:
    out = [f'| {first} | functions entered | their lines | lines that ran |', '|---|---:|---:|---:|']
    out += [f'| {k} | {n} | {a} | {b} |' for k, (n, a, b) in rows.items()]
    out.append(f'| {total} | ' + ' | '.join(str(sum(r[i] for r in rows.values())) for i in range(3)) + ' |')
    return '\n'.join(out)

if __name__ == '__main__':
    os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('HF_DATASETS_OFFLINE', '1')
    import tempfile
    from ctp.models import load_model
    from ctp.testing import tiny_model
    os.environ['CTP_HOME'] = tempfile.mkdtemp()     # the text the teacher writes is cached there, not in the user's cache
    load = load_model if '--embedded' in sys.argv else tiny_model
    t, ppl = run_path(*load(), load()[0])
    pm = t.per_module()
    print(_table({f'`{m}`': v for m, v in pm.items()}, 'module', f'all {len(pm)} modules'))
    print(); print(_table(t.per_role(), 'role', 'all'))
    if '--order' in sys.argv:      # the method's functions in the order the calls reach them: a reading order
        print('\n  ran lines function (the method, in the order first reached)')
        for (m, f), (n, ran) in t.functions().items():
            if role(m, f) == 'method': print(f'{ran:5d} {n:5d} {m}.{f}')
    if '--functions' in sys.argv:
        print('\n  ran lines role    function')
        for (m, f), (n, ran) in sorted(t.functions().items(), key=lambda kv: (-kv[1][1], kv[0])): print(f'{ran:5d} {n:5d} {role(m, f):7s} {m}.{f}')
    if '--calls' in sys.argv:
        for (a, b), n in sorted(t.calls.items()): print(f'{a} -> {b}: {n}')
