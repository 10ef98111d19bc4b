package org.jmamba.io.torch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jmamba.io.CheckpointException;
import org.jmamba.io.DType;

/**
 * A pickle reader that understands exactly what {@code torch.save(state_dict)} writes and nothing
 * else. It never runs code: the only "callables" are three known names resolved to inert markers
 * ({@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2}, and the typed storage
 * classes {@code torch.FloatStorage} & co.), and REDUCE is only interpreted for the first two.
 * Every other global, opcode or call is an error naming the file and the opcode's offset.
 *
 * <p>Values: Python ints become {@link Long}, floats {@link Double}, str {@link String}, bool
 * {@link Boolean}, None {@link #NONE}, list {@link ArrayList}, dict {@link LinkedHashMap}, tuple
 * {@link Tuple}; a storage reference is a {@link StorageRef}, a tensor a {@link TensorRef}.
 */
final class RestrictedUnpickler {

    /** Python's None (a distinct object, since stacks and maps here do not hold Java null well). */
    static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };

    /** An immutable Python tuple. */
    record Tuple(List<Object> items) {
        Tuple {
            items = List.copyOf(items);
        }
    }

    /** The allowed callables. */
    enum Callable { ORDERED_DICT, REBUILD_TENSOR_V2 }

    /** A typed storage class such as {@code torch.FloatStorage}. */
    record StorageType(String name, DType dtype) {
    }

    /** {@code ('storage', type, key, location, numel)}: raw bytes in {@code data/<key>} of the zip. */
    record StorageRef(String key, DType dtype, long numel, String location) {
    }

    /** A tensor view of a storage. */
    record TensorRef(StorageRef storage, long offset, long[] shape, long[] stride) {
    }

    private static final Map<String, DType> STORAGE_TYPES = Map.of(
            "FloatStorage", DType.F32,
            "DoubleStorage", DType.F64,
            "HalfStorage", DType.F16,
            "BFloat16Storage", DType.BF16,
            "LongStorage", DType.I64,
            "IntStorage", DType.I32);

    private static final Object MARK_SENTINEL = new Object();

    private final Path file;
    private final byte[] data;
    private int pos;
    private int opStart;
    private final List<Object> stack = new ArrayList<>();
    /** Stack heights at each open MARK (indices, so a MARK costs O(1) however deep the stack). */
    private final Deque<Integer> marks = new ArrayDeque<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private RestrictedUnpickler(Path file, byte[] data) {
        this.file = file;
        this.data = data;
    }

    /** Unpickles {@code data} (the bytes of {@code data.pkl}); {@code file} names it in messages. */
    static Object load(Path file, byte[] data) {
        return new RestrictedUnpickler(file, data).run();
    }

    private CheckpointException error(String opcode, String problem) {
        return new CheckpointException(file, "pickle opcode " + opcode + " at offset " + opStart + ": " + problem);
    }

    private Object run() {
        List<Object> st = stack;
        boolean first = true;
        while (true) {
            if (pos >= data.length) {
                throw new CheckpointException(file, "pickle ends at offset " + pos + " without a STOP opcode");
            }
            opStart = pos;
            int op = data[pos++] & 0xff;
            if (first && op != 0x80) {
                throw error(name(op), "expected PROTO 2 or later first (older pickle protocols are not accepted)");
            }
            first = false;
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = u8("PROTO");
                    if (v < 2 || v > 5) {
                        throw error("PROTO", "unsupported pickle protocol " + v);
                    }
                }
                case 0x95 -> skip("FRAME", 8); // FRAME: a length hint only
                case '.' -> { // STOP
                    if (st.size() != 1 || !marks.isEmpty()) {
                        throw error("STOP", "stack not balanced at the end (" + st.size() + " items)");
                    }
                    return st.get(0);
                }
                case '(' -> marks.push(st.size()); // MARK
                case '}' -> st.add(new LinkedHashMap<Object, Object>());
                case ']' -> st.add(new ArrayList<Object>());
                case ')' -> st.add(new Tuple(List.of()));
                case 't' -> st.add(new Tuple(popMark("TUPLE")));
                case 0x85 -> st.add(new Tuple(List.of(pop("TUPLE1"))));
                case 0x86 -> {
                    Object b = pop("TUPLE2");
                    Object a = pop("TUPLE2");
                    st.add(new Tuple(List.of(a, b)));
                }
                case 0x87 -> {
                    Object c = pop("TUPLE3");
                    Object b = pop("TUPLE3");
                    Object a = pop("TUPLE3");
                    st.add(new Tuple(List.of(a, b, c)));
                }
                case 'l' -> st.add(new ArrayList<>(popMark("LIST")));
                case 'd' -> {
                    List<Object> items = popMark("DICT");
                    Map<Object, Object> m = new LinkedHashMap<>();
                    setItems("DICT", m, items);
                    st.add(m);
                }
                case 'a' -> {
                    Object v = pop("APPEND");
                    list("APPEND").add(v);
                }
                case 'e' -> {
                    List<Object> items = popMark("APPENDS");
                    list("APPENDS").addAll(items);
                }
                case 's' -> {
                    Object v = pop("SETITEM");
                    Object k = pop("SETITEM");
                    setItems("SETITEM", dict("SETITEM"), List.of(k, v));
                }
                case 'u' -> {
                    List<Object> items = popMark("SETITEMS");
                    setItems("SETITEMS", dict("SETITEMS"), items);
                }
                case 'K' -> st.add((long) u8("BININT1"));
                case 'M' -> st.add((long) (u8("BININT2") | (u8("BININT2") << 8)));
                case 'J' -> st.add((long) le("BININT", 4).getInt());
                case 0x8a -> st.add(longN("LONG1", u8("LONG1")));
                case 0x8b -> st.add(longN("LONG4", le("LONG4", 4).getInt()));
                case 'G' -> st.add(ByteBuffer.wrap(take("BINFLOAT", 8)).order(ByteOrder.BIG_ENDIAN).getDouble());
                case 'X' -> st.add(utf8("BINUNICODE", le("BINUNICODE", 4).getInt() & 0xffffffffL));
                case 0x8c -> st.add(utf8("SHORT_BINUNICODE", u8("SHORT_BINUNICODE")));
                case 0x8d -> st.add(utf8("BINUNICODE8", le("BINUNICODE8", 8).getLong()));
                case 'U' -> st.add(latin1("SHORT_BINSTRING", u8("SHORT_BINSTRING")));
                case 'T' -> st.add(latin1("BINSTRING", le("BINSTRING", 4).getInt()));
                case 0x88 -> st.add(Boolean.TRUE);
                case 0x89 -> st.add(Boolean.FALSE);
                case 'N' -> st.add(NONE);
                case 'q' -> put("BINPUT", u8("BINPUT"));
                case 'r' -> put("LONG_BINPUT", le("LONG_BINPUT", 4).getInt() & 0xffffffffL);
                case 0x94 -> put("MEMOIZE", memo.size());
                case 'h' -> get("BINGET", u8("BINGET"));
                case 'j' -> get("LONG_BINGET", le("LONG_BINGET", 4).getInt() & 0xffffffffL);
                case 'c' -> {
                    String module = line("GLOBAL");
                    String name = line("GLOBAL");
                    st.add(global("GLOBAL", module, name));
                }
                case 0x93 -> {
                    Object name = pop("STACK_GLOBAL");
                    Object module = pop("STACK_GLOBAL");
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error("STACK_GLOBAL", "module and name must be strings");
                    }
                    st.add(global("STACK_GLOBAL", m, n));
                }
                case 'R' -> {
                    Object args = pop("REDUCE");
                    Object fn = pop("REDUCE");
                    st.add(reduce(fn, args));
                }
                case 'Q' -> st.add(persistentLoad(pop("BINPERSID")));
                case 'b' -> {
                    Object state = pop("BUILD");
                    Object obj = top("BUILD");
                    // OrderedDict.__reduce__ passes the instance's __dict__ as state: for a
                    // state_dict that is {'_metadata': ...}, version info we do not need.
                    if (!(obj instanceof Map) || !(state instanceof Map || state == NONE)) {
                        throw error("BUILD", "only a dict's attribute state is accepted, not BUILD on "
                                + typeName(obj) + " with " + typeName(state));
                    }
                }
                case '0' -> pop("POP");
                case '1' -> popMark("POP_MARK");
                case '2' -> st.add(top("DUP"));
                default -> throw error(name(op), "opcode not allowed in a state-dict pickle");
            }
        }
    }

    // ---- stack helpers ----

    private Object pop(String op) {
        if (stack.size() <= (marks.isEmpty() ? 0 : marks.peek())) {
            throw error(op, "stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object top(String op) {
        if (stack.size() <= (marks.isEmpty() ? 0 : marks.peek())) {
            throw error(op, "stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    /** The items pushed since the last MARK; restores the stack below it. */
    private List<Object> popMark(String op) {
        if (marks.isEmpty()) {
            throw error(op, "no MARK on the stack");
        }
        List<Object> above = stack.subList(marks.pop(), stack.size());
        List<Object> items = new ArrayList<>(above);
        above.clear();
        return items;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(String op) {
        Object t = top(op);
        if (!(t instanceof ArrayList)) {
            throw error(op, "target is " + typeName(t) + ", not a list");
        }
        return (List<Object>) t;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(String op) {
        Object t = top(op);
        if (!(t instanceof LinkedHashMap)) {
            throw error(op, "target is " + typeName(t) + ", not a dict");
        }
        return (Map<Object, Object>) t;
    }

    private void setItems(String op, Map<Object, Object> m, List<Object> kv) {
        if (kv.size() % 2 != 0) {
            throw error(op, "odd number of items for key/value pairs");
        }
        for (int i = 0; i < kv.size(); i += 2) {
            Object k = kv.get(i);
            // Only immutable keys: a list or dict key would be unhashable in Python.
            if (!(k instanceof String || k instanceof Long || k instanceof Boolean || k instanceof Double)) {
                throw error(op, "dict key of type " + typeName(k) + " is not supported");
            }
            m.put(k, kv.get(i + 1));
        }
    }

    private void put(String op, long index) {
        if (memo.size() >= 10_000_000) {
            throw error(op, "memo too large");
        }
        memo.put(index, top(op));
    }

    private void get(String op, long index) {
        Object v = memo.get(index);
        if (v == null) {
            throw error(op, "memo index " + index + " was never stored");
        }
        stack.add(v);
    }

    // ---- reading bytes ----

    private void need(String op, long n) {
        if (n < 0 || n > data.length - pos) {
            throw error(op, "needs " + n + " bytes but only " + (data.length - pos) + " remain");
        }
    }

    private int u8(String op) {
        need(op, 1);
        return data[pos++] & 0xff;
    }

    private void skip(String op, int n) {
        need(op, n);
        pos += n;
    }

    private byte[] take(String op, long n) {
        need(op, n);
        byte[] b = java.util.Arrays.copyOfRange(data, pos, pos + (int) n);
        pos += (int) n;
        return b;
    }

    private ByteBuffer le(String op, int n) {
        return ByteBuffer.wrap(take(op, n)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** LONG1/LONG4: little-endian two's complement; anything beyond 64 bits is refused. */
    private long longN(String op, long n) {
        if (n < 0 || n > 8) {
            throw error(op, "integer of " + n + " bytes is too large");
        }
        byte[] b = take(op, n);
        long v = 0;
        for (int i = (int) n - 1; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xff);
        }
        if (n > 0 && n < 8 && (b[(int) n - 1] & 0x80) != 0) {
            v -= 1L << (8 * n); // sign-extend
        }
        return v;
    }

    private String utf8(String op, long n) {
        need(op, n);
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(data, pos, (int) n)).toString();
            pos += (int) n;
            return s;
        } catch (CharacterCodingException e) {
            throw error(op, "string is not valid UTF-8");
        }
    }

    private String latin1(String op, long n) {
        need(op, n);
        String s = new String(data, pos, (int) n, StandardCharsets.ISO_8859_1);
        pos += (int) n;
        return s;
    }

    /** A newline-terminated ASCII line (GLOBAL's module and name). */
    private String line(String op) {
        int start = pos;
        int limit = Math.min(data.length, pos + 256);
        for (int i = pos; i < limit; i++) {
            if (data[i] == '\n') {
                pos = i + 1;
                for (int j = start; j < i; j++) {
                    if (data[j] < 0x20 || data[j] > 0x7e) {
                        throw error(op, "name is not printable ASCII");
                    }
                }
                return new String(data, start, i - start, StandardCharsets.US_ASCII);
            }
        }
        throw error(op, "unterminated or over-long name");
    }

    // ---- the allowed globals and calls ----

    private Object global(String op, String module, String name) {
        if (module.equals("collections") && name.equals("OrderedDict")) {
            return Callable.ORDERED_DICT;
        }
        if (module.equals("torch._utils") && name.equals("_rebuild_tensor_v2")) {
            return Callable.REBUILD_TENSOR_V2;
        }
        if (module.equals("torch") && STORAGE_TYPES.containsKey(name)) {
            return new StorageType(name, STORAGE_TYPES.get(name));
        }
        throw error(op, "forbidden global '" + module + "." + name + "' (only collections.OrderedDict, "
                + "torch._utils._rebuild_tensor_v2 and torch.{Float,Double,Half,BFloat16,Long,Int}Storage are allowed)");
    }

    private Object reduce(Object fn, Object args) {
        if (!(args instanceof Tuple t)) {
            throw error("REDUCE", "arguments are " + typeName(args) + ", not a tuple");
        }
        if (fn == Callable.ORDERED_DICT) {
            if (!t.items().isEmpty()) {
                throw error("REDUCE", "OrderedDict called with arguments");
            }
            return new LinkedHashMap<Object, Object>();
        }
        if (fn == Callable.REBUILD_TENSOR_V2) {
            return rebuildTensor(t.items());
        }
        throw error("REDUCE", "calling " + typeName(fn) + " is not allowed");
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private TensorRef rebuildTensor(List<Object> a) {
        String op = "REDUCE";
        if (a.size() != 6 && a.size() != 7) {
            throw error(op, "_rebuild_tensor_v2 takes 6 or 7 arguments, got " + a.size());
        }
        if (!(a.get(0) instanceof StorageRef storage)) {
            throw error(op, "_rebuild_tensor_v2: first argument is " + typeName(a.get(0)) + ", not a storage");
        }
        long offset = nonNegative(op, "storage_offset", a.get(1));
        long[] shape = longs(op, "size", a.get(2));
        long[] stride = longs(op, "stride", a.get(3));
        if (shape.length != stride.length) {
            throw error(op, "_rebuild_tensor_v2: size and stride have different lengths");
        }
        if (!(a.get(4) instanceof Boolean)) {
            throw error(op, "_rebuild_tensor_v2: requires_grad is " + typeName(a.get(4)));
        }
        if (!(a.get(5) instanceof Map<?, ?> hooks) || !hooks.isEmpty()) {
            throw error(op, "_rebuild_tensor_v2: backward hooks are not supported");
        }
        if (a.size() == 7 && !(a.get(6) == NONE || a.get(6) instanceof Map)) {
            throw error(op, "_rebuild_tensor_v2: metadata is " + typeName(a.get(6)));
        }
        return new TensorRef(storage, offset, shape, stride);
    }

    private long[] longs(String op, String what, Object o) {
        if (!(o instanceof Tuple t)) {
            throw error(op, "_rebuild_tensor_v2: " + what + " is " + typeName(o) + ", not a tuple");
        }
        long[] r = new long[t.items().size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = nonNegative(op, what, t.items().get(i));
        }
        return r;
    }

    private long nonNegative(String op, String what, Object o) {
        if (!(o instanceof Long v) || v < 0) {
            throw error(op, "_rebuild_tensor_v2: " + what + " must be a non-negative int, got " + typeName(o));
        }
        return v;
    }

    /** {@code ('storage', storage_type, key, location, numel)} as torch.save writes it. */
    private StorageRef persistentLoad(Object pid) {
        String op = "BINPERSID";
        if (!(pid instanceof Tuple t) || t.items().size() != 5 || !"storage".equals(t.items().get(0))) {
            throw error(op, "persistent id is not ('storage', type, key, location, numel)");
        }
        List<Object> p = t.items();
        if (!(p.get(1) instanceof StorageType type)) {
            throw error(op, "storage type is " + typeName(p.get(1)));
        }
        if (!(p.get(2) instanceof String key) || !key.matches("[A-Za-z0-9_]{1,64}")) {
            throw error(op, "storage key is not a simple name");
        }
        if (!(p.get(3) instanceof String location)) {
            throw error(op, "storage location is " + typeName(p.get(3)));
        }
        if (!(p.get(4) instanceof Long numel) || numel < 0) {
            throw error(op, "storage size is " + typeName(p.get(4)));
        }
        return new StorageRef(key, type.dtype(), numel, location);
    }

    static String typeName(Object o) {
        if (o == null) {
            return "nothing";
        }
        if (o == NONE) {
            return "None";
        }
        if (o instanceof Callable c) {
            return c == Callable.ORDERED_DICT ? "collections.OrderedDict" : "torch._utils._rebuild_tensor_v2";
        }
        if (o instanceof StorageType s) {
            return "torch." + s.name();
        }
        if (o instanceof Tuple) {
            return "tuple";
        }
        if (o instanceof List) {
            return "list";
        }
        if (o instanceof Map) {
            return "dict";
        }
        if (o instanceof String) {
            return "str";
        }
        if (o instanceof Long) {
            return "int";
        }
        if (o instanceof Double) {
            return "float";
        }
        if (o instanceof Boolean) {
            return "bool";
        }
        if (o instanceof StorageRef) {
            return "storage";
        }
        if (o instanceof TensorRef) {
            return "tensor";
        }
        return o.getClass().getSimpleName();
    }

    private static final Map<Integer, String> OPCODE_NAMES = Map.ofEntries(
            Map.entry((int) 'I', "INT"), Map.entry((int) 'L', "LONG"), Map.entry((int) 'S', "STRING"),
            Map.entry((int) 'V', "UNICODE"), Map.entry((int) 'F', "FLOAT"), Map.entry((int) 'P', "PERSID"),
            Map.entry((int) 'i', "INST"), Map.entry((int) 'o', "OBJ"), Map.entry(0x81, "NEWOBJ"),
            Map.entry(0x92, "NEWOBJ_EX"), Map.entry((int) 'p', "PUT"), Map.entry((int) 'g', "GET"),
            Map.entry((int) 'B', "BINBYTES"), Map.entry((int) 'C', "SHORT_BINBYTES"), Map.entry(0x8e, "BINBYTES8"),
            Map.entry(0x8f, "EMPTY_SET"), Map.entry(0x90, "ADDITEMS"), Map.entry(0x91, "FROZENSET"),
            Map.entry(0x82, "EXT1"), Map.entry(0x83, "EXT2"), Map.entry(0x84, "EXT4"),
            Map.entry(0x96, "BYTEARRAY8"), Map.entry(0x97, "NEXT_BUFFER"), Map.entry(0x98, "READONLY_BUFFER"),
            Map.entry((int) 'c', "GLOBAL"), Map.entry((int) 'R', "REDUCE"), Map.entry((int) 'b', "BUILD"),
            Map.entry((int) '.', "STOP"), Map.entry(0x80, "PROTO"));

    private static String name(int op) {
        String n = OPCODE_NAMES.get(op);
        return n != null ? n : String.format("0x%02x", op);
    }
}
