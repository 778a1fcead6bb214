#!/bin/sh
# Copies what the practice page needs of @mediapipe/pose (installed by `npm ci` here) into
# vendor/mediapipe-pose, which Django serves as static/mediapipe-pose/. Only the model the page
# uses (modelComplexity 1, "full") is copied. Run by `make frontend` and by the Dockerfile.
set -eu
cd "$(dirname "$0")"
src=node_modules/@mediapipe/pose
out=vendor/mediapipe-pose
rm -rf "$out" && mkdir -p "$out"
cp "$src"/pose.js "$src"/pose_web.binarypb "$src"/pose_landmark_full.tflite \
   "$src"/pose_solution_packed_assets.data "$src"/pose_solution_packed_assets_loader.js \
   "$src"/pose_solution_simd_wasm_bin.* "$src"/pose_solution_wasm_bin.* "$out"/
