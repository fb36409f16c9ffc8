// A minimal protobuf writer for ONNX models made of MatMul nodes, so the onnxruntime-web
// interop test builds its graphs in memory (no Python, no committed binary). It writes only
// the ModelProto fields ORT needs: ir_version, opset_import, and a graph of nodes with
// float32 inputs and outputs of fixed shapes (field numbers from onnx/onnx.proto).

export interface MatMulNode {
  readonly a: string;
  readonly b: string;
  readonly out: string;
}

export interface TensorInfo {
  readonly name: string;
  readonly dims: readonly number[];
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    out.push(byte);
  } while (v > 0);
  return out;
}

const VARINT = 0;
const LENGTH_DELIMITED = 2;
const key = (field: number, wire: number) => varint(field * 8 + wire);
const int = (field: number, value: number) => [...key(field, VARINT), ...varint(value)];
const message = (field: number, body: readonly number[]) => [
  ...key(field, LENGTH_DELIMITED),
  ...varint(body.length),
  ...body,
];
const text = (field: number, s: string) => message(field, [...new TextEncoder().encode(s)]);

const FLOAT = 1;

/** ValueInfoProto { name = 1; type = 2 } with TypeProto.tensor_type = 1 { elem_type = 1; shape = 2 }. */
function valueInfo(field: number, t: TensorInfo): number[] {
  const shape = t.dims.flatMap((d) => message(1, int(1, d)));
  const tensorType = [...int(1, FLOAT), ...message(2, shape)];
  return message(field, [...text(1, t.name), ...message(2, message(1, tensorType))]);
}

/** A ModelProto (IR version 8, default opset 17) running `nodes` in order. */
export function matMulModel(
  nodes: readonly MatMulNode[],
  inputs: readonly TensorInfo[],
  outputs: readonly TensorInfo[],
): Uint8Array {
  // GraphProto { node = 1; name = 2; input = 11; output = 12 }
  // NodeProto { input = 1; output = 2; name = 3; op_type = 4 }
  const graph = [
    ...nodes.flatMap((n, i) =>
      message(1, [
        ...text(1, n.a),
        ...text(1, n.b),
        ...text(2, n.out),
        ...text(3, `matmul${i}`),
        ...text(4, 'MatMul'),
      ]),
    ),
    ...text(2, 'attnc-interop'),
    ...inputs.flatMap((t) => valueInfo(11, t)),
    ...outputs.flatMap((t) => valueInfo(12, t)),
  ];
  // ModelProto { ir_version = 1; graph = 7; opset_import = 8 { domain = 1; version = 2 } }
  return Uint8Array.from([
    ...int(1, 8),
    ...message(7, graph),
    ...message(8, [...text(1, ''), ...int(2, 17)]),
  ]);
}
