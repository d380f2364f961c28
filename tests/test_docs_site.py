"The docs site, built offline from the notebooks, served on 127.0.0.1 and opened in headless Chromium."
import functools, http.server, os, shutil, threading
from pathlib import Path
from urllib.parse import urlparse
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
    skip = {'genindex.html', 'search.html'}
    return sorted(str(p.relative_to(out)) for p in out.glob('*.html') if p.name not in skip)

def test_pages_load_without_errors(site, browser):
    out, base = site
    pages = _pages(out)
    assert 'index.html' in pages and '01_models.html' in pages and len(pages) >= 6
    n_img = 0
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
        # every internal link resolves to a file of the site
        for href in page.eval_on_selector_all('a[href]', 'els => els.map(e => e.getAttribute("href"))'):
            u = urlparse(href)
            if u.scheme or u.netloc or not u.path: continue
            target = (out/Path(name).parent/u.path).resolve()
            assert target.exists(), (name, href)
        # every figure is really there
        sizes = page.eval_on_selector_all('article img', 'els => els.map(e => e.naturalWidth)')
        assert all(w > 0 for w in sizes), (name, sizes)
        n_img += len(sizes)
        page.close()
    assert n_img >= 1, 'the chapters should show at least one figure'

def test_search_finds_api_symbol(site, browser):
    out, base = site
    page = browser.new_page()
    page.goto(f'{base}/search.html?q=load_model', wait_until='load')
    page.wait_for_selector('#search-results ul.search li', timeout=20000)
    hits = page.eval_on_selector_all('#search-results ul.search li a', 'els => els.map(e => e.getAttribute("href"))')
    assert any('01_models' in h for h in hits), hits
    page.close()
