"""The model registry: gait-model versions with provenance, metrics per site, a model card and an ONNX file."""
