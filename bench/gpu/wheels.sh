#!/usr/bin/env bash
# What a lent H100/H200 (the `device` tool) lacks to run latentplay's GPU benches, fetched here
# into .gpu/ (ignored by git; name it in `carry`). The device's image has Python 3.12 with
# PyTorch, Lightning, numpy, pandas, safetensors, scikit-learn, scikit-image and more, but not
# datasets, omegaconf or dlib, and it cannot download:
#   .gpu/wheels   datasets, dill, multiprocess, omegaconf (about 1 MB): every check
#   .gpu/pyarrow  pyarrow (55 MB): only where the device's own is older than datasets needs
#   .gpu/faces    dlib-bin and dlib's three model files (36 MB): `bench/gpu/checks.sh dlib`
# Run once: `make gpu-wheels`.
set -euo pipefail
cd "$(dirname "$0")/../.."
platform=(--only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64
          --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
version() { .venv/bin/python -c "import importlib.metadata as m; print(m.version('$1'))"; }
fetch() {  # fetch DIR PACKAGE...: the versions this checkout's .venv runs
    local dir=$1; shift
    mkdir -p "$dir"
    for package in "$@"; do
        python3 -m pip download -q --no-deps "${platform[@]}" -d "$dir" "$package==$(version "$package")"
    done
}
rm -rf .gpu
fetch .gpu/wheels datasets dill multiprocess omegaconf
fetch .gpu/pyarrow pyarrow
fetch .gpu/faces dlib-bin
models=$(.venv/bin/python -c "from latentplay.embed.faces import model_dir; print(model_dir())")
mkdir -p .gpu/faces/models
for name in dlib_face_recognition_resnet_model_v1.dat mmod_human_face_detector.dat \
            shape_predictor_5_face_landmarks.dat; do
    cp "$models/$name" .gpu/faces/models/
done
du -sh .gpu/*
