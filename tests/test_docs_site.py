"The docs site, built offline from the notebooks, served on 127.0.0.1 and opened in headless Chromium; README.md's links."
import functools, http.server, os, re, shutil, threading
from pathlib import Path
from urllib.parse import unquote, urlparse
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync']

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    from ctp.docs import build_docs
    os.chdir(ROOT)
    out = build_docs(tmp_path_factory.mktemp('site'))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *a, **k: None
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield out, f'http://127.0.0.1:{srv.server_address[1]}'
    srv.shutdown()

@pytest.fixture(scope='module')
def browser():
    assert CHROMIUM, 'the docs test needs Chromium (Debian: apt-get install chromium); `make test` installs it as root'
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()

def _pages(out):
    "Every HTML page of the site: chapters, index and search pages, the source files' pages."
    return sorted(p.relative_to(out).as_posix() for p in out.rglob('*.html'))

# Sites the book and README cite: any other absolute link (a made-up host, say) fails the tests.
CITED = ('https://arxiv.org/abs/', 'https://github.com/zirui-ray-liu/compress-then-prompt',
         'https://github.com/vllm-project/llm-compressor', 'https://nbdev.fast.ai/', 'https://fastcore.fast.ai/',
         'https://www.sphinx-doc.org/', 'https://github.com/pradyunsg/furo', 'https://pradyunsg.me')   # the last three: furo's footer
LEAKS = ('{target=', ':::', '#|')   # Quarto/pandoc attributes, fenced divs, nbdev directives: markup nobody rendered

def _visible_text(page):
    "The page's text as a reader sees it, code blocks and inline code left out."
    return page.evaluate("""() => { const b = document.body.cloneNode(true);
        b.querySelectorAll('pre, code, script, style').forEach(e => e.remove()); return b.textContent; }""")

def test_pages_load_without_errors(site, browser):
    out, base = site
    pages = _pages(out)
    assert 'index.html' in pages and '01_models.html' in pages and 'code/ctp/compress/level.py.html' in pages and len(pages) >= 6
    assert (out/'favicon.ico').stat().st_size > 0        # else the browser's own request for it is a 404 on every page
    n_img, ids, anchored = 0, {}, []
    for name in pages:
        page = browser.new_page()
        errors, outside, failed = [], [], []
        page.on('pageerror', lambda e: errors.append(str(e)))
        page.on('console', lambda m: errors.append(m.text) if m.type == 'error' else None)
        page.on('request', lambda r: outside.append(r.url) if urlparse(r.url).hostname not in ('127.0.0.1', None) and not r.url.startswith('data:') else None)
        page.on('requestfailed', lambda r: failed.append(r.url))
        resp = page.goto(f'{base}/{name}', wait_until='load')
        assert resp.status == 200, name
        assert not errors, (name, errors)
        assert not outside, (name, 'fetched from outside', outside)
        assert not failed, (name, failed)
        # no markup left unrendered: in the text, or as a directive heading a code block
        text = _visible_text(page)
        for leak in LEAKS:
            assert leak not in text, (name, leak, text[max(0, text.find(leak)-200):text.find(leak)+100])
        for code in page.eval_on_selector_all('pre', 'els => els.map(e => e.textContent)'):
            assert not code.lstrip().startswith('#|'), (name, code[:200])
        ids[name] = set(page.eval_on_selector_all('[id], a[name]', 'els => els.map(e => e.id || e.getAttribute("name"))'))
        # every internal link resolves to a file of the site (and its anchor, checked below); no link leaves for an uncited site
        for href in page.eval_on_selector_all('a[href]', 'els => els.map(e => e.getAttribute("href"))'):
            u = urlparse(href)
            if u.scheme or u.netloc:
                assert href.startswith(CITED), (name, 'links to a site the book does not cite', href)
                continue
            target = (out/Path(name).parent/u.path).resolve() if u.path else out/name
            assert target.exists(), (name, href)
            if u.fragment and target.suffix == '.html': anchored.append((name, href, target.relative_to(out).as_posix(), u.fragment))
        # every figure is really there
        sizes = page.eval_on_selector_all('article img', 'els => els.map(e => e.naturalWidth)')
        assert all(w > 0 for w in sizes), (name, sizes)
        n_img += len(sizes)
        page.close()
    assert n_img >= 1, 'the chapters should show at least one figure'
    missing = [(name, href) for name, href, target, frag in anchored if unquote(frag) not in ids[target]]
    assert not missing, ('links to anchors that do not exist', missing)
    # each API entry's source link names the file in the repository and opens it at the line
    src = [a for a in anchored if a[2].startswith('code/')]
    assert src and all(Path(ROOT, t[len('code/'):-len('.html')]).is_file() and f.startswith('L-') for _, _, t, f in src), src[:5]

def _md_links(md):
    return re.findall(r'!?\[[^\]]*\]\(([^()\s]+)\)', md)

def test_readme_links_stay_in_the_repository():
    "README.md links to files of the repository (which exist) or to a cited site, never to a made-up host."
    links = _md_links((ROOT/'README.md').read_text())
    assert links
    for href in links:
        u = urlparse(href)
        if u.scheme or u.netloc: assert href.startswith(CITED), href
        else: assert (ROOT/unquote(u.path)).exists(), href

def test_readme_is_built_from_index(tmp_path):
    "README.md is what `ctp docs` writes from nbs/index.ipynb (run `.venv/bin/ctp docs` after editing the notebook)."
    from ctp.docs import build_readme
    os.chdir(ROOT)
    assert build_readme(tmp_path/'README.md').read_text() == (ROOT/'README.md').read_text()

def test_search_finds_api_symbol(site, browser):
    out, base = site
    page = browser.new_page()
    page.goto(f'{base}/search.html?q=load_model', wait_until='load')
    page.wait_for_selector('#search-results ul.search li', timeout=20000)
    hits = page.eval_on_selector_all('#search-results ul.search li a', 'els => els.map(e => e.getAttribute("href"))')
    assert any('01_models' in h for h in hits), hits
    page.close()
