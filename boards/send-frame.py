#!/usr/bin/env python3
"""Send inputs to a board running the certifying firmware (boards/nrf52840-dk)
as input frames, and print the reply line the board sends back for each.

One frame per input, in cert-runtime's container framing
(boards/cert-app/src/frame.rs, cert-runtime/src/container.rs):

  offset  bytes  field
  0       4      magic b"CINP"
  4       2      version 1, u16 little-endian
  6       4      payload length n = 4 * (C*H*W of the model), u32 little-endian
  10      n      the input values, f32 little-endian, CHW order, in the model's
                 real units (pixels in [0, 1], tabular features in their own)
  10+n    4      CRC-32/ISO-HDLC (zlib's crc32) of the payload, u32 little-endian

Inputs come from a CSV file (a header row, one input per row, the label
column dropped; the feature columns must be in the order the model was
trained on) or from an IDX image file (MNIST; gzip or raw; each u8 pixel p
is sent as p/255). The board certifies each input at the eps its model
file carries and answers with one line (at most 72 bytes):

  ok class=C certified=1 min_margin=M boxes=B   proven: LED1 (act) on
  ok class=C certified=0 min_margin=M boxes=B   not proven: LED2 (fall back) on
  err length got=N expected=E                   wrong number of values (bytes)
  err frame                                     bad version or CRC
  err runtime | err gate                        no decision; LEDs unchanged

Frames go to a serial port (--port; replies are read and printed, and the
next frame is sent only after the reply), or, as raw bytes, to a file
(--out FILE) or to stdout (the default; replies are then not read). The
exit status is 0 when every frame sent to a port got an `ok` reply.

Needs only the standard library. With pyserial installed
(`pip install pyserial`) --port uses it; without, --port opens the device
itself (POSIX termios: raw, 8N1, --baud).
"""

import argparse
import csv
import fractions
import gzip
import os
import struct
import sys
import time

MAGIC = b"CINP"
VERSION = 1
HEADER_LEN = 10  # magic, version, payload length
TRAILER_LEN = 4  # CRC-32
LINE_MAX = 72  # longest reply line, newline included (reply.rs)

EXAMPLES = """\
examples (from the repository root):
  # the first three vendored MNIST test digits to the nRF52840 DK's VCOM port
  python3 boards/send-frame.py --port /dev/ttyACM0 \\
      --mnist data/mnist-10k/test-images-idx3-ubyte.gz --index 0 --count 3

  # ten rows of a tabular test set (for a model trained on these features)
  python3 boards/send-frame.py --port /dev/ttyACM0 \\
      --csv data/tabular/wine/test.csv --count 10

  # write the frames to a file instead, and look at one
  python3 boards/send-frame.py --csv data/tabular/wine/test.csv --out wine.bin
  python3 boards/send-frame.py --mnist data/mnist-10k/test-images-idx3-ubyte.gz | xxd | head

  # check this script's framing against the Rust golden frame
  python3 boards/send-frame.py --self-test
"""


# --- CRC-32/ISO-HDLC --------------------------------------------------------
# The `crc` crate's CRC_32_ISO_HDLC (container.rs): polynomial 0x04C11DB7
# reflected (0xEDB88320), init 0xFFFFFFFF, reflected in and out, final XOR
# 0xFFFFFFFF; check value 0xCBF43926. It is zlib's crc32, written out here
# so the framing does not depend on it.

def _crc_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc_table()


def crc32(data: bytes) -> int:
    """CRC-32/ISO-HDLC of `data`."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


# --- frames -----------------------------------------------------------------

def frame(values) -> bytes:
    """The CINP frame of `values` (floats, already f32-representable or
    rounded to nearest f32 here)."""
    payload = b"".join(struct.pack("<f", v) for v in values)
    header = MAGIC + struct.pack("<HI", VERSION, len(payload))
    return header + payload + struct.pack("<I", crc32(payload))


# --- f32 from text, as Rust's `str::parse::<f32>` -----------------------------
# The host reads CSV cells with Rust's `parse::<f32>()`, which rounds the
# decimal once, to the nearest f32. float() then struct's "<f" would round
# twice (to f64, then to f32) and can land one ulp off; this rounds the
# exact decimal to the nearest f32 (ties to even), so the board sees the
# bits the host certified.

_F32_MAX = fractions.Fraction(2**24 - 1, 1) * 2**104
_F32_OVERFLOW = _F32_MAX + fractions.Fraction(2**103)  # halfway to 2**128


def _f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def _f32_from_bits(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def parse_f32(text: str) -> float:
    """The f32 nearest to the decimal `text`; ValueError if it is not a
    finite number (as the host's CSV reader refuses it)."""
    s = text.strip()
    if not s or "/" in s or "_" in s:
        raise ValueError(f"`{text}` is not a number")
    try:
        exact = fractions.Fraction(s)
    except ValueError:
        raise ValueError(f"`{text}` is not a finite number") from None
    if abs(exact) >= _F32_OVERFLOW:
        raise ValueError(f"`{text}` is not a finite f32 (too large)")
    if exact == 0:
        return -0.0 if s.startswith("-") else 0.0
    magnitude = abs(exact)
    # Within one ulp of the answer; the answer is it or a neighbour.
    guess = _f32_bits(min(float(magnitude), float(_F32_MAX)))
    best = None
    for bits in (guess - 1, guess, guess + 1):
        if bits < 0 or bits > 0x7F7FFFFF:
            continue
        value = _f32_from_bits(bits)
        error = abs(fractions.Fraction(value) - magnitude)
        key = (error, bits & 1)  # nearest, then even mantissa
        if best is None or key < best[0]:
            best = (key, value)
    value = best[1]
    return -value if exact < 0 else value


# --- inputs -----------------------------------------------------------------

def csv_inputs(path, label_column, index, count):
    """(name, label, values) per data row from `index` on, `count` rows
    (0: all)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        try:
            header = [h.strip() for h in next(rows)]
        except StopIteration:
            sys.exit(f"{path}: empty file (a header row is needed)")
        label_at = header.index(label_column) if label_column in header else None
        features = [h for i, h in enumerate(header) if i != label_at]
        if not features:
            sys.exit(f"{path}: no feature columns besides `{label_column}`")
        sent = 0
        for row_number, row in enumerate(rows):
            if row_number < index:
                continue
            if count and sent == count:
                return
            line = rows.line_num
            if len(row) != len(header):
                sys.exit(f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
            values = []
            for i, field in enumerate(row):
                if i == label_at:
                    continue
                try:
                    values.append(parse_f32(field))
                except ValueError as e:
                    sys.exit(f"{path}:{line}: column `{header[i]}`: {e}")
            label = row[label_at].strip() if label_at is not None else None
            yield f"row {row_number}", label, values
            sent += 1
    if sent == 0:
        sys.exit(f"{path}: no data row {index} (rows are numbered from 0 after the header)")


def read_idx(path):
    """(dims, data) of an IDX file of u8 values, gzip or raw."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        sys.exit(f"{path}: not an IDX file")
    kind, ndim = data[2], data[3]
    if kind != 0x08:
        sys.exit(f"{path}: IDX values of type {kind:#04x}; only u8 (0x08) is read")
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    body = data[4 + 4 * ndim :]
    size = 1
    for d in dims:
        size *= d
    if len(body) != size:
        sys.exit(f"{path}: {len(body)} value bytes, dims {dims} need {size}")
    return dims, body


def labels_beside(images_path):
    """The labels file beside an MNIST images file, if there is one."""
    name = os.path.basename(images_path)
    if "images-idx3" not in name:
        return None
    stem = name.replace("images-idx3", "labels-idx1").removesuffix(".gz")
    for candidate in (stem + ".gz", stem):
        path = os.path.join(os.path.dirname(images_path), candidate)
        if os.path.isfile(path):
            return path
    return None


def mnist_inputs(path, labels_path, index, count):
    """(name, label, values) per image from `index` on, `count` images
    (0: all); pixels divided by 255."""
    dims, body = read_idx(path)
    if len(dims) < 2:
        sys.exit(f"{path}: dims {dims} are not a list of images")
    n, size = dims[0], len(body) // max(dims[0], 1)
    labels = None
    labels_path = labels_path or labels_beside(path)
    if labels_path:
        label_dims, labels = read_idx(labels_path)
        if label_dims != (n,):
            sys.exit(f"{labels_path}: {label_dims} labels for {n} images")
    if not 0 <= index < n:
        sys.exit(f"{path}: no image {index} (0..{n - 1})")
    end = n if count == 0 else min(n, index + count)
    for i in range(index, end):
        pixels = body[i * size : (i + 1) * size]
        # p/255 in f64, then to f32, equals the host's f32 p / 255.0: the
        # quotient's bits repeat p's 8 bits, so it never falls near an f32
        # rounding midpoint.
        yield f"image {i}", None if labels is None else str(labels[i]), [p / 255.0 for p in pixels]


# --- the port ---------------------------------------------------------------

class RawPort:
    """A serial device opened without pyserial (POSIX)."""

    def __init__(self, path, baud, timeout):
        if os.name != "posix":
            sys.exit("--port without pyserial needs a POSIX system: pip install pyserial")
        self.timeout = timeout
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        self.tty = os.isatty(self.fd)
        if self.tty:
            import termios

            speed = getattr(termios, f"B{baud}", None)
            if speed is None:
                sys.exit(f"--baud {baud}: not a rate termios knows")
            attrs = termios.tcgetattr(self.fd)
            iflag, oflag, cflag, lflag = 0, 0, attrs[2], 0
            cflag &= ~(termios.CSIZE | termios.PARENB | termios.CSTOPB)
            cflag &= ~getattr(termios, "CRTSCTS", 0)
            cflag |= termios.CS8 | termios.CREAD | termios.CLOCAL
            cc = attrs[6]
            cc[termios.VMIN], cc[termios.VTIME] = 0, 0
            termios.tcsetattr(self.fd, termios.TCSANOW, [iflag, oflag, cflag, lflag, speed, speed, cc])
            termios.tcflush(self.fd, termios.TCIFLUSH)

    def write(self, data):
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def readline(self):
        import select

        line, deadline = b"", time.monotonic() + self.timeout
        while len(line) < LINE_MAX and not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                break
            chunk = os.read(self.fd, 1)
            if not chunk:
                break
            line += chunk
        return line

    def close(self):
        os.close(self.fd)


class SerialPort:
    """A serial port through pyserial."""

    def __init__(self, serial, path, baud, timeout):
        self.tty = True
        self.port = serial.Serial(path, baud, timeout=timeout)
        self.port.reset_input_buffer()

    def write(self, data):
        self.port.write(data)
        self.port.flush()

    def readline(self):
        # read_until (pyserial 3) times out over the whole line.
        read_until = getattr(self.port, "read_until", None)
        if read_until is None:
            return self.port.readline(LINE_MAX)
        return read_until(b"\n", LINE_MAX)

    def close(self):
        self.port.close()


def open_port(path, baud, timeout):
    try:
        import serial  # pyserial
    except ImportError:
        return RawPort(path, baud, timeout)
    return SerialPort(serial, path, baud, timeout)


def describe(reply: bytes):
    """The reply as text, with a gloss; and whether it is an `ok`."""
    text = reply.decode("ascii", errors="replace").rstrip("\r\n")
    if not reply:
        return "(no reply in time)", False
    if not reply.endswith(b"\n"):
        return f"{text} (line cut short)", False
    fields = dict(t.split("=", 1) for t in text.split()[1:] if "=" in t)
    if text.startswith("ok "):
        proven = fields.get("certified") == "1"
        return f"{text}  -> {'LED1 act' if proven else 'LED2 fall back'}", True
    if text.startswith("err length") and fields.get("expected", "").isdigit():
        expected = int(fields["expected"]) // 4
        return f"{text}  (the model takes {expected} values)", False
    return text, False


# --- self-test --------------------------------------------------------------

# The golden frame of boards/cert-app/src/frame.rs, `golden_bytes`:
# encode(&[0.0, 0.5, 1.0]).
GOLDEN_INPUT = [0.0, 0.5, 1.0]
GOLDEN_FRAME = bytes.fromhex(
    "43494e50" "0100" "0c000000" "00000000" "0000003f" "0000803f" "4e5c41d5"
)


def self_test():
    import tempfile
    import zlib

    failures = []

    def check(what, ok):
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            failures.append(what)

    check("CRC-32/ISO-HDLC check value of b'123456789' is 0xcbf43926",
          crc32(b"123456789") == 0xCBF43926)
    sample = bytes(range(256)) * 5 + b"CINP"
    check("crc32 equals zlib.crc32", all(crc32(sample[:n]) == zlib.crc32(sample[:n]) for n in (0, 1, 7, 1284)))
    got = frame(GOLDEN_INPUT)
    check(f"frame([0.0, 0.5, 1.0]) is the Rust golden frame {GOLDEN_FRAME.hex()}", got == GOLDEN_FRAME)
    if got != GOLDEN_FRAME:
        print(f"     got {got.hex()}")
    check("frame length is 10 + 4*n + 4", len(frame([1.0] * 784)) == HEADER_LEN + 4 * 784 + TRAILER_LEN)
    # 1 + 2^-24 + 2^-60: f64 rounds it to the f32 midpoint 1 + 2^-24, which
    # ties down to 1.0; the nearest f32 is 1 + 2^-23.
    tricky = _decimal(1 + fractions.Fraction(1, 2**24) + fractions.Fraction(1, 2**60))
    check("parse_f32 rounds a decimal once, as Rust's parse::<f32>",
          parse_f32(tricky) == 1 + 2**-23 and struct.unpack("<f", struct.pack("<f", float(tricky)))[0] == 1.0)
    check("parse_f32 of ordinary cells", [parse_f32(s) for s in (" 11.84", "-3", "4e1", "0", ".5")]
          == [struct.unpack("<f", struct.pack("<f", x))[0] for x in (11.84, -3.0, 40.0, 0.0, 0.5)])
    refused = 0
    for bad in ("nan", "inf", "1e39", "x", "", "1/2"):
        try:
            parse_f32(bad)
        except ValueError:
            refused += 1
    check("parse_f32 refuses what is not a finite f32", refused == 6)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "t.csv")
        with open(path, "w") as f:
            f.write("a,label,b\n0,yes,0.5\n1.5,no,2\n")
        rows = list(csv_inputs(path, "label", 1, 0))
        check("CSV: label column dropped, --index counts data rows",
              rows == [("row 1", "no", [1.5, 2.0])])
        images = os.path.join(tmp, "t-images-idx3-ubyte.gz")
        with gzip.open(images, "wb") as f:
            f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, 2, 1, 2) + bytes([0, 255, 51, 102]))
        with open(os.path.join(tmp, "t-labels-idx1-ubyte"), "wb") as f:
            f.write(struct.pack(">BBBBI", 0, 0, 8, 1, 2) + bytes([7, 3]))
        got = list(mnist_inputs(images, None, 1, 1))
        check("IDX (gzip): pixels / 255, labels from the file beside",
              got == [("image 1", "3", [0.2, 0.4])])
    check("reply lines are read as the board writes them",
          describe(b"ok class=1 certified=1 min_margin=-19 boxes=3\n")[1]
          and not describe(b"err frame\n")[1] and not describe(b"")[1])
    # The host's test vectors (certnn vectors) hold their inputs as raw f32
    # bytes: the payloads of this script's frames must be among them.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for vectors, source in (
        ("models/wine-std0.05.cvec", ("csv", "data/tabular/wine/test.csv")),
        ("models/mlp-eps0.1.cvec", ("mnist", "data/mnist-10k/test-images-idx3-ubyte.gz")),
    ):
        vectors, data = os.path.join(root, vectors), os.path.join(root, source[1])
        if not (os.path.isfile(vectors) and os.path.isfile(data)):
            print(f"skip {source[1]} vs {os.path.relpath(vectors, root)} (not in this checkout)")
            continue
        with open(vectors, "rb") as f:
            held = f.read()
        if source[0] == "csv":
            inputs = csv_inputs(data, "label", 0, 5)
        else:
            inputs = mnist_inputs(data, None, 0, 5)
        payloads = [frame(values)[HEADER_LEN:-TRAILER_LEN] for _, _, values in inputs]
        check(f"the first 5 inputs of {source[1]} are bit for bit those of {os.path.relpath(vectors, root)}",
              all(p in held for p in payloads))
    print("self-test:", "passed" if not failures else f"{len(failures)} FAILED")
    return 0 if not failures else 1


def _decimal(q):
    """The exact decimal expansion of a Fraction whose denominator is a
    power of 2."""
    digits = 0
    while q.denominator != 1:
        q *= 10
        digits += 1
    sign, whole = ("-" if q < 0 else ""), str(abs(q.numerator))
    whole = whole.rjust(digits + 1, "0")
    return f"{sign}{whole[:-digits]}.{whole[-digits:]}" if digits else sign + whole


# --- main -------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(
        description=__doc__, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--csv", metavar="FILE", help="CSV with a header row, one input per row")
    src.add_argument("--mnist", metavar="IDX", help="IDX images of u8 pixels (gzip or raw), e.g. "
                     "data/mnist-10k/test-images-idx3-ubyte.gz")
    src.add_argument("--self-test", action="store_true",
                     help="check the framing against the Rust golden frame, and exit")
    p.add_argument("--label-column", default="label", metavar="NAME",
                   help="CSV column to drop and show as the label, if present (default: label)")
    p.add_argument("--labels", metavar="IDX",
                   help="labels for --mnist (default: the *-labels-idx1-ubyte* file beside it, if any)")
    p.add_argument("--index", type=int, default=0, metavar="N",
                   help="first row / image, from 0 (default: 0)")
    p.add_argument("--count", type=int, default=1, metavar="N",
                   help="inputs to send (default: 1; 0: all from --index on)")
    dst = p.add_mutually_exclusive_group()
    dst.add_argument("--port", metavar="DEV",
                     help="serial port, e.g. /dev/ttyACM0 (the DK's J-Link VCOM); replies are read")
    dst.add_argument("--out", metavar="FILE", help="write the frames to FILE (- for stdout, the default)")
    p.add_argument("--baud", type=int, default=115200, help="serial rate, 8N1 (default: 115200)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="seconds to wait for each reply (default: 10)")
    args = p.parse_args()

    if args.self_test:
        return self_test()
    if not (args.csv or args.mnist):
        p.error("one of --csv, --mnist or --self-test is needed")
    if args.index < 0 or args.count < 0:
        p.error("--index and --count are not negative")

    if args.csv:
        inputs = csv_inputs(args.csv, args.label_column, args.index, args.count)
    else:
        inputs = mnist_inputs(args.mnist, args.labels, args.index, args.count)

    if args.port is None:
        if args.out in (None, "-"):
            if sys.stdout.isatty():
                sys.exit("refusing to write binary frames to a terminal: redirect stdout, or use --out / --port")
            out = sys.stdout.buffer
        else:
            out = open(args.out, "wb")
        frames = 0
        for _, _, values in inputs:
            out.write(frame(values))
            frames += 1
        out.flush()
        print(f"{frames} frame(s) written", file=sys.stderr)
        return 0

    try:
        port = open_port(args.port, args.baud, args.timeout)
    except OSError as e:  # pyserial's SerialException is one too
        sys.exit(f"--port {args.port}: {e}")
    if not port.tty:
        print(f"{args.port} is not a terminal: writing frames, not reading replies", file=sys.stderr)
    answered = sent = 0
    try:
        for name, label, values in inputs:
            port.write(frame(values))
            sent += 1
            if not port.tty:
                continue
            text, ok = describe(port.readline())
            answered += ok
            tag = name if label is None else f"{name} label={label}"
            print(f"{tag} ({len(values)} values): {text}", flush=True)
    finally:
        port.close()
    if not port.tty:
        print(f"{sent} frame(s) written", file=sys.stderr)
        return 0
    return 0 if answered == sent else 1


if __name__ == "__main__":
    sys.exit(main())
