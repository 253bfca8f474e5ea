#!/usr/bin/env bash
# Installs TensorFlow Lite itself into the build tree: the npm package
# @tensorflow/tfjs-tflite, whose WebAssembly module is the TFLite interpreter
# with its XNNPACK delegate. scripts/tflite_runner.js runs it under Node as the
# golden model of vosa's engine (docs/dnn.md, "Bit-exact with TFLite").
# Pinned version, local prefix (no global install), idempotent.
#   scripts/tflite_runtime.sh [PREFIX]     (default: build/tflite-runtime)
set -euo pipefail
VERSION=0.0.1-alpha.10
PREFIX="${1:-$(dirname "$0")/../build/tflite-runtime}"
PKG="$PREFIX/node_modules/@tensorflow/tfjs-tflite/package.json"
if [ -f "$PKG" ] && grep -q "\"version\": \"$VERSION\"" "$PKG"; then exit 0; fi
command -v npm > /dev/null || { echo "tflite_runtime: npm not found (scripts/setup.sh --deps installs it)" >&2; exit 1; }
mkdir -p "$PREFIX"
# --legacy-peer-deps: the runner needs only the package's wasm/ folder, not
# its TensorFlow.js peer dependencies.
npm install --prefix "$PREFIX" --no-save --no-audit --no-fund --ignore-scripts --legacy-peer-deps \
  "@tensorflow/tfjs-tflite@$VERSION" > "$PREFIX/npm-install.log" 2>&1 \
  || { echo "tflite_runtime: npm install @tensorflow/tfjs-tflite@$VERSION failed: $PREFIX/npm-install.log" >&2; exit 1; }
echo "tflite_runtime: installed @tensorflow/tfjs-tflite $VERSION in $PREFIX"
