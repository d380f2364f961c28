"""The reading path: the ctp code a reader follows from compress to train to evaluate, measured by tracing it.

`python tests/reading_path.py` runs the four calls of the README's "In Python" (on a tiny model, with a tiny
training config; the embedded model runs the same ctp code) under a tracer and prints, per module, the lines
of the ctp functions the calls entered and the lines that ran. tests/test_design.py holds the total to a budget.
"""
import ast, collections, os, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT/'ctp'

def _defs(path:Path)->dict:
    "For each function of a file: its first line (decorators included) and its last, keyed by the lines its code object may report."
    out = {}
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([n.lineno] + [d.lineno for d in n.decorator_list])
            out[first] = out[n.lineno] = (first, n.end_lineno, n.name)
    return out

class PathTracer:
    "Records which ctp functions run (and which of their lines) while it is active."
    def __init__(self): self.entered, self.lines, self.calls = set(), collections.defaultdict(set), collections.Counter()
    def _trace(self, frame, event, arg):
        f = frame.f_code.co_filename
        if not f.startswith(str(PKG)): return None
        self.entered.add((f, frame.f_code.co_firstlineno))
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
        "{(module, function): lines} of every ctp function entered (nested functions inside their parent's lines)."
        spans, cache = collections.defaultdict(set), {}
        for f, first in self.entered:
            d = cache.setdefault(f, _defs(Path(f)))
            if first in d: spans[f].add(d[first])
        out = {}
        for f, ss in spans.items():   # a function inside another entered one is read with it: count the outer one
            for a, b, name in ss:
                if not any(a2 <= a and b <= b2 and (a2, b2) != (a, b) for a2, b2, _ in ss): out[(module_of(f), name)] = b - a + 1
        return out

    def per_module(self)->dict:
        "{module: (functions entered, their lines, lines that ran)}, a package's modules counted as the package."
        room = lambda m: '.'.join(m.split('.')[:2])
        nf, fl, ran = collections.Counter(), collections.Counter(), collections.Counter()
        for (m, _), n in self.functions().items(): nf[room(m)] += 1; fl[room(m)] += n
        for f, ls in self.lines.items(): ran[room(module_of(f))] += len(ls)
        return {m: (nf[m], fl[m], ran[m]) for m in sorted(set(fl) | set(ran))}

def module_of(path:str)->str:
    "ctp.x for ctp/x.py, ctp.compress.x for ctp/compress/x.py."
    p = Path(path).relative_to(ROOT).with_suffix('')
    return '.'.join(p.parts[:-1] if p.name == '__init__' else p.parts)

def run_path(model, tok, config=None)->tuple[PathTracer, float]:
    "compress -> recover -> corpus_perplexity, as the README's four calls, traced; returns the tracer and the prompted perplexity."
    from ctp.compress import compress
    from ctp.recover import recover, recipe_config
    from ctp.evaluate import corpus_perplexity
    config = config or recipe_config(n_tokens=4, steps=2, seq_len=64, eval_every=2, eval_blocks=2, checkpoint_every=2)
    with PathTracer() as t:
        compress(model, 'w4s50', tokenizer=tok, n=2, seq_len=64, progress=False)
        res = recover(model, tok, config=config, max_blocks=4)
        ppl = corpus_perplexity(model, tok, 'wiki', seq_len=64, max_blocks=2, prompt=res.prompt)
    return t, ppl

if __name__ == '__main__':
    os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('HF_DATASETS_OFFLINE', '1')
    from ctp.models import tiny_model, load_model
    t, ppl = run_path(*(load_model() if '--embedded' in sys.argv else tiny_model()))
    pm = t.per_module()
    print('| module | functions entered | their lines | lines that ran |\n|---|---:|---:|---:|')
    for m, (n, a, b) in pm.items(): print(f'| `{m}` | {n} | {a} | {b} |')
    print(f'| all {len(pm)} modules | ' + ' | '.join(str(sum(r[i] for r in pm.values())) for i in range(3)) + ' |')
    if '--functions' in sys.argv:
        for (m, f), n in sorted(t.functions().items(), key=lambda kv: -kv[1]): print(f'{n:5d} {m}.{f}')
    if '--calls' in sys.argv:
        for (a, b), n in sorted(t.calls.items()): print(f'{a} -> {b}: {n}')
