"""Model tables (specs), the model store (download, sha256, conversion) and the ONNX Runtime
sessions.
"""
