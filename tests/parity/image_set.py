"""image_set.py - a folder of real photographs in every JPEG/PNG mode eeprof decodes.

build(root) writes an ImageFolder tree (root/<class>/<file>) from the sample photographs
Debian's python3-skimage ships, resized with Pillow to several sizes (some smaller than a
224 crop, some with a side of exactly 256) and saved in each format and mode of issue 15:
baseline, progressive, 4:2:2, 4:4:4, greyscale and CMYK JPEG; 8- and 16-bit, palette (with
and without tRNS), 1/2/4-bit grey, grey+alpha, RGBA and interlaced (Adam7) PNG. Pillow
cannot write 16-bit colour, 2/4-bit grey or interlaced PNGs: those are encoded here by
png_raw(). Nothing is committed; the set is made at test time (33 files, 2.5 MB).
"""
import os
import struct
import zlib

import numpy as np
from PIL import Image
import skimage.data


# Adam7: (x start, y start, x step, y step) of each pass
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]


def png_raw(path, arr, depth, color_type, interlace=False):
    """Writes a PNG of arr ([h, w] or [h, w, c] of unsigned ints); interlace (Adam7) for
    depths of 8 and 16 only."""
    if interlace:
        raw = b"".join(_scanlines(arr[ys::yt, xs::xt], depth)
                       for xs, ys, xt, yt in ADAM7 if arr[ys::yt, xs::xt].size)
    else:
        raw = _scanlines(arr, depth)
    _write_png(path, arr.shape[1], arr.shape[0], depth, color_type, int(interlace), raw)


def _scanlines(arr, depth):
    """The filtered (filter type 0) scanlines of arr."""
    h, w = arr.shape[:2]
    if depth == 16:
        rows = arr.astype(">u2").reshape(h, -1).view(np.uint8).reshape(h, -1)
    elif depth < 8:
        per = 8 // depth
        a = arr.reshape(h, w).astype(np.uint8)
        pad = (-w) % per
        a = np.pad(a, ((0, 0), (0, pad)))
        a = a.reshape(h, -1, per)
        packed = np.zeros(a.shape[:2], np.uint8)
        for i in range(per):
            packed |= a[:, :, i] << (8 - depth * (i + 1))
        rows = packed
    else:
        rows = arr.reshape(h, -1).astype(np.uint8)
    return b"".join(b"\0" + r.tobytes() for r in rows)


def _write_png(path, w, h, depth, color_type, interlace, raw):
    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data +
                struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0,
                                           interlace)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 6)))
        f.write(chunk(b"IEND", b""))


def photo(name):
    a = getattr(skimage.data, name)()
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    return Image.fromarray(a)


def sized(im, size):
    return im if size is None else im.resize(size, Image.BICUBIC)


# (class folder, file name, photo, size or None for the original, writer)
def _jpeg(**kw):
    return lambda im, path: im.convert(kw.pop("mode", "RGB") if "mode" in kw else "RGB").save(
        path, "JPEG", **kw)


def _save(mode, fmt, **kw):
    def write(im, path):
        im.convert(mode).save(path, fmt, **kw)
    return write


def _palette(transparent):
    def write(im, path):
        p = im.convert("RGB").quantize(64)
        if transparent:
            p.info["transparency"] = 3
            p.save(path, "PNG", transparency=3)
        else:
            p.save(path, "PNG")
    return write


def _gray16(im, path):
    a = np.asarray(im.convert("L")).astype(np.uint32)
    # values across 0..65535 and a band below 256, so that Pillow's clipping shows
    v = (a * 257) // np.where(np.arange(a.shape[1]) % 3 == 0, 300, 1)
    Image.fromarray(v.astype(np.uint16)).save(path, "PNG")


def _rgb16(im, path):
    a = np.asarray(im.convert("RGB")).astype(np.uint16)
    png_raw(path, a * 257 + (a & 7) * 13, 16, 2)


def _rgba16(im, path):
    a = np.asarray(im.convert("RGBA")).astype(np.uint16)
    png_raw(path, a * 251, 16, 6)


def _gray_bits(depth):
    def write(im, path):
        a = np.asarray(im.convert("L")) >> (8 - depth)
        png_raw(path, a, depth, 0)
    return write


def _interlaced(mode, depth):
    def write(im, path):
        a = np.asarray(im.convert(mode)).astype(np.uint16 if depth == 16 else np.uint8)
        png_raw(path, a * 257 if depth == 16 else a, depth, 2 if mode == "RGB" else 0,
                interlace=True)
    return write


def _la16(im, path):
    a = np.asarray(im.convert("LA")).astype(np.uint16)
    png_raw(path, a * 257, 16, 4)


def _cmyk(im, path):
    im.convert("CMYK").save(path, "JPEG", quality=90)


IMAGES = [
    ("jpeg", "astronaut.jpg", "astronaut", None, _save("RGB", "JPEG", quality=90)),
    ("jpeg", "coffee_prog.JPG", "coffee", None, _save("RGB", "JPEG", quality=85,
                                                     progressive=True)),
    ("jpeg", "chelsea_444.jpeg", "chelsea", None, _save("RGB", "JPEG", quality=95,
                                                       subsampling=0)),
    ("jpeg", "rocket_422.jpg", "rocket", (500, 333), _save("RGB", "JPEG", quality=75,
                                                           subsampling=1)),
    ("jpeg", "hubble.jpg", "hubble_deep_field", None, _save("RGB", "JPEG", quality=90)),
    ("jpeg", "retina_small.jpg", "retina", (160, 160), _save("RGB", "JPEG")),
    ("jpeg", "tall.jpg", "coffee", (256, 397), _save("RGB", "JPEG", quality=92)),
    ("jpeg", "wide_256.jpg", "chelsea", (401, 256), _save("RGB", "JPEG", quality=92)),
    ("jpeg_gray", "camera.jpg", "camera", None, _save("L", "JPEG", quality=90)),
    ("jpeg_gray", "coins_prog.jpg", "coins", None, _save("L", "JPEG", progressive=True)),
    ("jpeg_gray", "moon_tiny.jpg", "moon", (97, 61), _save("L", "JPEG")),
    ("jpeg_cmyk", "astronaut_cmyk.jpg", "astronaut", (300, 300), _cmyk),
    ("jpeg_cmyk", "ihc_cmyk.jpg", "immunohistochemistry", None, _cmyk),
    ("png", "chelsea.png", "chelsea", None, _save("RGB", "PNG")),
    ("png", "colorwheel.png", "colorwheel", None, _save("RGB", "PNG")),
    ("png", "logo_rgba.png", "logo", None, _save("RGBA", "PNG")),
    ("png", "rocket_rgba_small.png", "rocket", (200, 133), _save("RGBA", "PNG")),
    ("png", "astronaut_p.png", "astronaut", (320, 320), _palette(False)),
    ("png", "coffee_p_trns.png", "coffee", (300, 200), _palette(True)),
    ("png", "rocket_16.png", "rocket", (360, 240), _rgb16),
    ("png", "logo_rgba16.png", "logo", (250, 250), _rgba16),
    ("png", "coffee_adam7.png", "coffee", (301, 203), _interlaced("RGB", 8)),
    ("png", "astronaut_adam7_16.png", "astronaut", (150, 150), _interlaced("RGB", 16)),
    ("png_gray", "camera.png", "camera", None, _save("L", "PNG")),
    ("png_gray", "page.png", "page", None, _save("L", "PNG")),
    ("png_gray", "text_la.png", "text", None, _save("LA", "PNG")),
    ("png_gray", "clock_la16.png", "clock", (300, 225), _la16),
    ("png_gray", "moon_16.png", "moon", (256, 256), _gray16),
    ("png_gray", "horse_1bit.png", "horse", None, _save("1", "PNG")),
    ("png_gray", "brick_2bit.png", "brick", (230, 230), _gray_bits(2)),
    ("png_gray", "gravel_4bit.png", "gravel", (240, 260), _gray_bits(4)),
    ("png_gray", "grass_small.png", "grass", (150, 100), _save("L", "PNG")),
    ("png_gray", "camera_adam7.png", "camera", (229, 229), _interlaced("L", 8)),
]


def build(root):
    """Writes the set under root; returns the paths in ImageFolder's order."""
    photos = {}
    for cls, fname, name, size, write in IMAGES:
        os.makedirs(os.path.join(root, cls), exist_ok=True)
        if name not in photos:
            photos[name] = photo(name)
        write(sized(photos[name], size), os.path.join(root, cls, fname))
    return sorted(os.path.join(root, c, f) for c, f, *_ in IMAGES)


if __name__ == "__main__":
    import sys
    for p in build(sys.argv[1]):
        print(p)
