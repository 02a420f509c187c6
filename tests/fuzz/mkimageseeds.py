"""mkimageseeds.py - writes the seed corpora of fuzz_jpeg, fuzz_png and fuzz_imgprep into
tests/fuzz/corpus/.

Run once (its files are committed). Each seed is a crop of one of skimage's photographs,
small (libFuzzer mutates faster on small inputs), saved by Pillow in each layout the
decoders handle (plugins/image_jpeg.c, image_png.c):
  jpeg: baseline RGB 4:2:0 and 4:4:4, grey, progressive, restart markers, CMYK (Adobe)
  png:  RGB, grey, 1/2/4-bit grey, palette (with tRNS), grey+alpha, RGBA, 16-bit grey and
        RGB, Adam7 interlaced (RGB and a 4-bit palette)
  imgprep: 6 bytes of settings (tests/fuzz/fuzz_imgprep.c) and an 8x8 crop's pixels: a
        bilinear downscale, a bicubic upscale of grey, nearest on a window, a pad
"""
import io
import os
import struct
import zlib

import numpy as np
from PIL import Image
from skimage import data

HERE = os.path.dirname(os.path.abspath(__file__))


def save(img, target, name, **kw):
    out = io.BytesIO()
    img.save(out, format=target.upper(), **kw)
    path = os.path.join(HERE, "corpus", target, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(out.getvalue())
    print(path, len(out.getvalue()))


def main():
    rgb = Image.fromarray(data.astronaut()[160:224:4, 200:264:4])    # 16x16, a face
    cat = Image.fromarray(data.chelsea()[100:148:2, 140:180:2])      # 20x24
    grey = Image.fromarray(data.camera()[100:164:4, 200:248:4])      # 12x16
    save(rgb, "jpeg", "rgb420.jpg", quality=75)
    save(cat, "jpeg", "rgb444.jpg", quality=90, subsampling=0)
    save(grey, "jpeg", "grey.jpg", quality=80)
    save(cat, "jpeg", "progressive.jpg", quality=70, progressive=True)
    save(rgb, "jpeg", "restart.jpg", quality=60, restart_marker_blocks=1)
    save(rgb.convert("CMYK"), "jpeg", "cmyk.jpg", quality=80)

    save(rgb, "png", "rgb.png")
    save(grey, "png", "grey.png")
    g = np.asarray(grey)
    for bits in (1, 2, 4):
        write_png("grey%d.png" % bits, g >> (8 - bits), bits, 0)
    pal = cat.convert("P", palette=Image.ADAPTIVE, colors=16)
    save(pal, "png", "palette-trns.png", transparency=3)
    save(grey.convert("LA"), "png", "grey-alpha.png")
    save(rgb.convert("RGBA"), "png", "rgba.png")
    save(Image.fromarray(np.asarray(grey).astype(np.uint16) * 257), "png", "grey16.png")
    write_png("interlaced.png", np.asarray(rgb)[:10, :11], 8, 2, interlace=True)
    write_png("rgb16.png", np.asarray(rgb)[:8, :8].astype(np.uint16) * 257, 16, 2)
    write_png("palette4-interlaced.png", np.asarray(pal)[:9, :9] % 16, 4, 3, interlace=True,
              plte=bytes(np.asarray(pal.getpalette()[:48], np.uint8)))
    imgprep_seeds()


def imgprep_seeds():
    """Settings (filter and channels, w - 1, h - 1, crop h - 1, crop w - 1, S), then pixels."""
    px = data.astronaut()[160:224:8, 200:264:8].tobytes()  # 8x8x3
    for name, settings in (("bilinear-down", (0, 39, 29, 6, 8, 0)),
                           ("bicubic-up-grey", (3, 4, 5, 6, 8, 12)),
                           ("nearest-window", (4, 4, 5, 6, 8, 0)),
                           ("pad-no-resize", (8, 3, 8, 15, 5, 0))):
        path = os.path.join(HERE, "corpus", "imgprep", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(bytes(settings) + px)
        print(path, len(settings) + len(px))


ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2))


def rows(a, bits):
    """Filter byte 0 and the packed samples of each row of a ([h][w] or [h][w][c])."""
    out = b""
    for row in a:
        v = row.reshape(-1)
        if bits == 16:
            out += b"\0" + v.astype(">u2").tobytes()
        elif bits == 8:
            out += b"\0" + v.astype(np.uint8).tobytes()
        else:
            out += b"\0" + np.packbits(np.unpackbits(v.astype(np.uint8)[:, None], axis=1)
                                        [:, 8 - bits:].reshape(-1)).tobytes()
    return out


def write_png(name, a, bits, color_type, interlace=False, plte=None):
    """A PNG written by hand (Pillow writes no 1/2/4-bit grey, 16-bit RGB or Adam7)."""
    h, w = a.shape[:2]
    if interlace:
        raw = b"".join(rows(a[y0::dy, x0::dx], bits) for x0, y0, dx, dy in ADAM7
                       if a[y0::dy, x0::dx].size)
    else:
        raw = rows(a, bits)

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bits, color_type, 0, 0, int(interlace)))
           + (chunk(b"PLTE", plte) if plte else b"") + chunk(b"IDAT", zlib.compress(raw))
           + chunk(b"IEND", b""))
    path = os.path.join(HERE, "corpus", "png", name)
    with open(path, "wb") as f:
        f.write(png)
    print(path, len(png))


if __name__ == "__main__":
    main()
