"Any causal LM: a model loaded from a GGUF file, and a tokenizer that adds BOS, go through every step with the right numbers."
import json, subprocess, sys
from pathlib import Path
import pytest, torch
from ctp.compress import compress, compression_report, save_compressed, load_compressed, model_level
from ctp.data import token_blocks, load_corpus
from ctp.evaluate import perplexity
from ctp.models import load_model
from ctp.testing import tiny_gguf, tiny_model

CALIB = torch.randint(3, 380, (4, 64), generator=torch.Generator().manual_seed(0))

@pytest.fixture(scope='module')
def gguf_file(tmp_path_factory):
    p = tmp_path_factory.mktemp('gguf') / 'tiny.gguf'
    tiny_gguf(p)
    return p

@pytest.mark.parametrize('level', ['nf4', 'int8', 'w4g32', 's50', 'nf4s50'])
def test_every_level_on_a_gguf_model(gguf_file, tmp_path, level):
    "A GGUF-loaded model is a plain model: every level compresses it, and the saved folder loads back."
    m, tok = load_model(gguf_file)
    assert not hasattr(m.config, 'quantization_config') and getattr(m, 'hf_quantizer', None) is None
    x = tok('Where is Long Beach?', return_tensors='pt').input_ids
    c = compress(m, level, CALIB, progress=False)
    assert str(model_level(c)) == level
    with torch.no_grad(): l1 = c(x).logits
    c2, _ = load_compressed(save_compressed(c, tmp_path / level, tok))
    with torch.no_grad(): torch.testing.assert_close(c2(x).logits, l1, atol=1e-5, rtol=1e-5)

def test_folder_saved_from_a_gguf_model_compresses(gguf_file, tmp_path):
    "A folder saved from a GGUF-loaded model carries no quantization config, so it compresses like any folder."
    m, tok = load_model(gguf_file)
    m.save_pretrained(tmp_path / 'plain'); tok.save_pretrained(tmp_path / 'plain')
    assert 'quantization_config' not in json.loads((tmp_path / 'plain' / 'config.json').read_text())
    m2, tok2 = load_model(tmp_path / 'plain')
    c = compress(m2, 'nf4', progress=False)
    assert type(c.model.layers[0].mlp.up_proj).__name__ == 'Linear4bit' and compression_report(c).level == 'nf4'

def test_bos_tokenizer_blocks_and_perplexity():
    "With a tokenizer that adds BOS, every block starts with it, and perplexity is that of the bos-led blocks."
    m, tok = tiny_model(add_bos=True)
    docs = load_corpus('wiki', 'test')[:20]
    b = token_blocks(tok, docs, seq_len=32, max_blocks=4)
    assert (b[:, 0] == tok.bos_token_id).all()
    nb = token_blocks(tok, docs, seq_len=32, max_blocks=4, bos=False)
    assert (nb[:, 0] != tok.bos_token_id).any()
    assert perplexity(m, b) != perplexity(m, nb)

def test_python_m_ctp_cli_runs():
    "`python -m ctp.cli --help` prints the command line's usage."
    r = subprocess.run([sys.executable, '-m', 'ctp.cli', '--help'], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and 'reproduce' in r.stdout, (r.returncode, r.stdout[-500:], r.stderr[-500:])
