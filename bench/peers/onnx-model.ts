// A minimal protobuf writer for small ONNX models, so the onnxruntime-web interop test and the
// bench's ORT peer build their graphs in memory (no Python, no committed binary). It writes
// only the ModelProto fields ORT needs: ir_version, opset_import, and a graph of nodes (with
// a domain and integer attributes) whose inputs and outputs are float32 or int32 tensors of
// fixed shapes (field numbers from onnx/onnx.proto).

export interface OnnxNode {
  readonly opType: string;
  /** '' for the standard operators, e.g. 'com.microsoft' for ORT's contrib operators. */
  readonly domain?: string;
  /** Input names in the operator's order; '' leaves an optional input out. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly intAttributes?: Readonly<Record<string, number>>;
}

export interface TensorInfo {
  readonly name: string;
  /** [] is a scalar. */
  readonly dims: readonly number[];
  /** Default 'float32'. */
  readonly type?: 'float32' | 'int32';
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

/** TensorProto.DataType */
const ELEMENT_TYPE = { float32: 1, int32: 6 } as const;
/** AttributeProto.AttributeType */
const ATTRIBUTE_INT = 2;

/** ValueInfoProto { name = 1; type = 2 } with TypeProto.tensor_type = 1 { elem_type = 1; shape = 2 }. */
function valueInfo(field: number, t: TensorInfo): number[] {
  const shape = t.dims.flatMap((d) => message(1, int(1, d)));
  const tensorType = [...int(1, ELEMENT_TYPE[t.type ?? 'float32']), ...message(2, shape)];
  return message(field, [...text(1, t.name), ...message(2, message(1, tensorType))]);
}

/** NodeProto { input = 1; output = 2; name = 3; op_type = 4; attribute = 5; domain = 7 }. */
function node(n: OnnxNode, index: number): number[] {
  // AttributeProto { name = 1; i = 3; type = 20 }; negative ints are not needed here.
  const attributes = Object.entries(n.intAttributes ?? {}).flatMap(([name, value]) => {
    if (!Number.isInteger(value) || value < 0) throw new Error(`attribute ${name}: ${value}?`);
    return message(5, [...text(1, name), ...int(3, value), ...int(20, ATTRIBUTE_INT)]);
  });
  return message(1, [
    ...n.inputs.flatMap((name) => text(1, name)),
    ...n.outputs.flatMap((name) => text(2, name)),
    ...text(3, `${n.opType}${index}`),
    ...text(4, n.opType),
    ...attributes,
    ...(n.domain ? text(7, n.domain) : []),
  ]);
}

/** A ModelProto (IR version 8, default opset 17, plus opset 1 of every other domain used). */
export function onnxModel(
  nodes: readonly OnnxNode[],
  inputs: readonly TensorInfo[],
  outputs: readonly TensorInfo[],
): Uint8Array {
  // GraphProto { node = 1; name = 2; input = 11; output = 12 }
  const graph = [
    ...nodes.flatMap(node),
    ...text(2, 'attnc-bench'),
    ...inputs.flatMap((t) => valueInfo(11, t)),
    ...outputs.flatMap((t) => valueInfo(12, t)),
  ];
  const domains = [...new Set(nodes.map((n) => n.domain ?? ''))].filter((d) => d !== '');
  // ModelProto { ir_version = 1; graph = 7; opset_import = 8 { domain = 1; version = 2 } }
  return Uint8Array.from([
    ...int(1, 8),
    ...message(7, graph),
    ...message(8, [...text(1, ''), ...int(2, 17)]),
    ...domains.flatMap((domain) => message(8, [...text(1, domain), ...int(2, 1)])),
  ]);
}

export interface MatMulNode {
  readonly a: string;
  readonly b: string;
  readonly out: string;
}

/** A graph of standard MatMul nodes run in order. */
export function matMulModel(
  nodes: readonly MatMulNode[],
  inputs: readonly TensorInfo[],
  outputs: readonly TensorInfo[],
): Uint8Array {
  return onnxModel(
    nodes.map((n) => ({ opType: 'MatMul', inputs: [n.a, n.b], outputs: [n.out] })),
    inputs,
    outputs,
  );
}
