"""A tiny ONNX model (y = Identity(x)) written byte by byte in the protobuf wire format, without the onnx package."""


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _message(field: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _float_tensor(name: str, length: int) -> bytes:
    shape = _message(2, _message(1, _int(1, length)))  # TensorShapeProto.dim.dim_value
    tensor_type = _message(1, _int(1, 1) + shape)  # TypeProto.tensor_type: elem_type FLOAT, shape
    return _message(1, name) + _message(2, tensor_type)  # ValueInfoProto: name, type


def tiny_onnx(ir_version: int = 8, opset: int = 17, length: int = 4) -> bytes:
    """ModelProto: ir_version, producer, graph (one Identity node, input x, output y), opset_import."""
    node = _message(1, "x") + _message(2, "y") + _message(3, "identity") + _message(4, "Identity")
    graph = (
        _message(1, node)
        + _message(2, "tiny")
        + _message(11, _float_tensor("x", length))
        + _message(12, _float_tensor("y", length))
    )
    return (
        _int(1, ir_version)
        + _message(2, "exohub-tests")
        + _message(7, graph)
        + _message(8, _message(1, "") + _int(2, opset))
    )
