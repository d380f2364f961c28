"""The prepared GPU check (scripts/gpu_check.py) runs its stages end to end; here on the CPU with a tiny shape, so the
script a GPU machine would run is known to work up to the device."""
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_gpu_check_runs_on_a_cpu(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1', CTP_HOME=str(tmp_path/'home'), OMP_NUM_THREADS='1')
    r = subprocess.run([sys.executable, ROOT/'scripts'/'gpu_check.py', '--device', 'cpu', '--shape', 'llama-tiny-shape', '--dtype', 'fp32',
                        '--steps', '2', '--calib_n', '2', '--eval_blocks', '4', '--out', tmp_path/'check.json'],
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads((tmp_path/'check.json').read_text())
    assert list(out['stages']) == ['dense evaluation', 'compression to w4s50 (estimated)', 'compression to w4s50, dense on the host (estimated)', 'training (kd, teacher live)', 'w4s50 evaluation + prompt']
    for name, s in out['stages'].items():
        assert s['seconds'] > 0 and s['peak'] > 0 and s['planned_peak'] > 0, (name, s)
    # on a CPU the check measures live tensors as the plan counts them: the traced stages agree to the byte
    for name in ('dense evaluation', 'w4s50 evaluation + prompt'):
        assert out['stages'][name]['measured_over_planned'] == 1.0, (name, out['stages'][name])
    assert out['device'] == 'cpu' and out['note'].startswith('random weights')
