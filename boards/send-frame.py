#!/usr/bin/env python3
"""Sends image frames to a board running the certifying firmware and prints
its reply to each (see README.md for the frame format).

  python3 send-frame.py PORT --mnist 0 1 2        vendored MNIST test digits 0, 1, 2
  python3 send-frame.py PORT --raw image.bin      C*H*W raw u8 pixels
  python3 send-frame.py - --mnist 0 > frames.bin  write the frames, send nothing

Needs pyserial (`pip install pyserial`) unless PORT is `-`.
"""
import argparse
import gzip
import pathlib
import struct
import sys
import zlib

MNIST = pathlib.Path(__file__).resolve().parent.parent / "data/mnist-10k"


def frame(pixels: bytes) -> bytes:
    """b"CIMG", u16 LE pixel count, the pixels, CRC-32 (zlib) LE of all before."""
    head = b"CIMG" + struct.pack("<H", len(pixels)) + pixels
    return head + struct.pack("<I", zlib.crc32(head))


def mnist(indices):
    images = gzip.open(MNIST / "test-images-idx3-ubyte.gz").read()
    labels = gzip.open(MNIST / "test-labels-idx1-ubyte.gz").read()
    _, count, rows, cols = struct.unpack(">IIII", images[:16])
    size = rows * cols
    for i in indices:
        if not 0 <= i < count:
            sys.exit(f"no test digit {i} (0..{count - 1})")
        yield f"digit {i} label={labels[8 + i]}", images[16 + i * size : 16 + (i + 1) * size]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("port", help="serial port (/dev/ttyACM0, COM3), or - for stdout")
    p.add_argument("--baud", type=int, default=115200)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--mnist", type=int, nargs="+", metavar="INDEX")
    g.add_argument("--raw", type=pathlib.Path, nargs="+", metavar="FILE")
    args = p.parse_args()
    images = mnist(args.mnist) if args.mnist else ((str(f), f.read_bytes()) for f in args.raw)
    if args.port == "-":
        for _, pixels in images:
            sys.stdout.buffer.write(frame(pixels))
        return
    import serial  # pyserial

    with serial.Serial(args.port, args.baud, timeout=10) as port:
        port.reset_input_buffer()
        for name, pixels in images:
            port.write(frame(pixels))
            reply = port.readline().decode(errors="replace").strip()
            print(f"{name}: {reply or '(no reply within 10 s)'}")


if __name__ == "__main__":
    main()
