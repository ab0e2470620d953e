#!/usr/bin/env bash
# latentplay's GPU figures in one call of a lent H100/H200 (DEVELOPERS.md, "GPU figures").
# After `make gpu-wheels` here, from the repository root there:
#   bash bench/gpu/checks.sh [train] [dlib] [latent]      (default: train)
# with carry [".gpu/wheels"], and ".gpu/faces" for dlib (all of .gpu is over 64 MiB).
# Each check's output (JSON lines) goes to $OUT/<check>.log, the versions found to $OUT/versions.txt.
# Where datasets cannot import the device's pyarrow, carry .gpu/pyarrow too: it is installed
# when present.
set -uo pipefail
shopt -s nullglob
for check in "${@:-train}"; do  # every name checked before the first runs
    case $check in train|dlib|latent) ;; *) echo "error: unknown check $check (train, dlib, latent)" >&2; exit 2 ;; esac
done
out=${OUT:-/tmp/latentplay-gpu}
mkdir -p "$out"
wheels=(.gpu/wheels/*.whl)
[ -d .gpu/pyarrow ] && wheels+=(.gpu/pyarrow/*.whl)
[ -d .gpu/faces ] && wheels+=(.gpu/faces/*.whl)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    "${wheels[@]}" || { echo "error: the carried wheels did not install" >&2; exit 2; }
if [ -d .gpu/faces/models ]; then  # dlib's model files where latentplay looks for them
    mkdir -p /tmp/site/face_recognition_models
    touch /tmp/site/face_recognition_models/__init__.py
    cp -r .gpu/faces/models /tmp/site/face_recognition_models/
fi
export PYTHONPATH=/tmp/site:$PWD/src PYTHONUNBUFFERED=1
python3 - <<'PY' 2>&1 | tee "$out/versions.txt"
import importlib.metadata as m
import torch
print("torch", torch.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")
for name in ("datasets", "pyarrow", "lightning", "omegaconf", "numpy"):
    print(name, m.version(name))
import datasets  # noqa: F401  (fails here when the device's pyarrow is too old: carry .gpu/pyarrow)
PY
[ "${PIPESTATUS[0]}" = 0 ] || exit 2
status=0
for check in "${@:-train}"; do
    case $check in
        train) command=(python3 bench/bench_train.py --device cuda --repeats 2 --epoch) ;;
        dlib) command=(python3 bench/bench_dlib.py --device cuda --images 64) ;;
        # one StyleGAN a process: each peak memory its own
        latent) command=(bash -c "python3 bench/bench_latent.py --device cuda --stylegan2-size 1024 &&
                         python3 bench/bench_latent.py --device cuda --stylegan2-size 0 --stylegan3-size 1024") ;;
    esac
    echo "== $check: ${command[*]}"
    timeout 480 "${command[@]}" 2>&1 | tee "$out/$check.log" || status=1
done
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv 2>/dev/null | tee -a "$out/versions.txt"
exit $status
