"""ImageDecoder against Pillow, the decoder the ONNX reference implementation uses: images of
every supported format and pixel layout are encoded by Pillow, decoded by onyx, and compared
with Pillow's own decoding (converted to RGB or L as the op's pixel_format asks). Malformed data
must give one clear error line."""
import io

import numpy as np
import pytest
from onnx import TensorProto, helper
from PIL import Image

from cli_helpers import assert_one_error_line, make_model, read_outputs, run_onyx, save_model

# Lossy codecs may round one step differently across library versions (Pillow's wheels bundle
# their own libjpeg-turbo and libwebp); lossless ones must match exactly.
LOSSY_TOLERANCE = 1


def decoder_model(path, pixel_format):
    node = helper.make_node("ImageDecoder", ["encoded"], ["image"], pixel_format=pixel_format)
    model = make_model([node], [helper.make_tensor_value_info("encoded", TensorProto.UINT8, [None])],
                       [helper.make_tensor_value_info("image", TensorProto.UINT8, [None, None, None])],
                       opsets={"": 20})
    return save_model(model, path)


def random_image(mode, size=(37, 23), seed=0):
    rng = np.random.default_rng(seed)
    # Smooth gradients plus noise: realistic for lossy codecs, still exercises every value.
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = (xx * 255 // max(w - 1, 1) + yy * 3) % 256
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode if mode in ("L", "RGB", "RGBA") else "RGB"]
    pixels = np.stack([(base + 60 * c + rng.integers(0, 40, (h, w))) % 256 for c in range(channels)], -1)
    pixels = pixels.astype(np.uint8)
    return Image.fromarray(pixels[:, :, 0] if channels == 1 else pixels, mode if channels > 1 else "L")


def encode(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return np.frombuffer(buffer.getvalue(), dtype=np.uint8)


def pillow_reference(encoded, pixel_format):
    image = Image.open(io.BytesIO(encoded.tobytes()))
    if image.mode == "I;16":
        # Pillow clips 16-bit samples to 255 when converting to 8 bits; onyx keeps the high byte,
        # as libpng's strip_16 and OpenCV do, so the whole range stays visible.
        image = Image.fromarray((np.asarray(image) >> 8).astype(np.uint8))
    if pixel_format == "Grayscale":
        return np.asarray(image.convert("L"))[:, :, None]
    rgb = np.asarray(image.convert("RGB"))
    return rgb[:, :, ::-1] if pixel_format == "BGR" else rgb


def decode_with_onyx(tmp_path, encoded, pixel_format):
    model = decoder_model(tmp_path / f"decoder_{pixel_format}.onnx", pixel_format)
    np.save(tmp_path / "encoded.npy", encoded)
    proc = run_onyx("run", model, "--input", f"encoded={tmp_path / 'encoded.npy'}",
                    "--output-dir", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    return read_outputs(tmp_path / "out")[0][1]


def image_16bit_gray():
    values = (np.arange(23 * 37, dtype=np.uint32).reshape(23, 37) * 71) % 65536
    return Image.fromarray(values.astype(np.uint16))


CASES = {
    # name: (make encoded bytes, lossy)
    "jpeg_rgb": (lambda: encode(random_image("RGB"), "JPEG", quality=90), True),
    "jpeg_rgb_444": (lambda: encode(random_image("RGB"), "JPEG", quality=95, subsampling=0), True),
    "jpeg_gray": (lambda: encode(random_image("L"), "JPEG", quality=90), True),
    "jpeg_progressive": (lambda: encode(random_image("RGB"), "JPEG", progressive=True), True),
    "png_rgb": (lambda: encode(random_image("RGB"), "PNG"), False),
    "png_rgba": (lambda: encode(random_image("RGBA"), "PNG"), False),
    "png_gray": (lambda: encode(random_image("L"), "PNG"), False),
    "png_palette": (lambda: encode(random_image("RGB").quantize(50), "PNG"), False),
    "png_16bit_gray": (lambda: encode(image_16bit_gray(), "PNG"), False),
    "bmp_rgb": (lambda: encode(random_image("RGB"), "BMP"), False),
    "bmp_palette": (lambda: encode(random_image("RGB").quantize(50), "BMP"), False),
    "bmp_1bit": (lambda: encode(random_image("L").convert("1"), "BMP"), False),
    "ppm": (lambda: encode(random_image("RGB"), "PPM"), False),
    "pgm": (lambda: encode(random_image("L"), "PPM"), False),
    "tiff_rgb": (lambda: encode(random_image("RGB"), "TIFF"), False),
    "tiff_lzw": (lambda: encode(random_image("RGB"), "TIFF", compression="tiff_lzw"), False),
    "tiff_gray": (lambda: encode(random_image("L"), "TIFF"), False),
    "webp_lossless": (lambda: encode(random_image("RGB"), "WEBP", lossless=True), False),
    "webp_lossy": (lambda: encode(random_image("RGB"), "WEBP", quality=80), True),
    "jpeg2000_lossless": (lambda: encode(random_image("RGB"), "JPEG2000", irreversible=False), False),
    "jpeg2000_j2k_codestream": (lambda: encode(random_image("RGB"), "JPEG2000", no_jp2=True), False),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("pixel_format", ["RGB", "BGR", "Grayscale"])
def test_decodes_like_pillow(tmp_path, case, pixel_format):
    make, lossy = CASES[case]
    encoded = make()
    expected = pillow_reference(encoded, pixel_format)
    actual = decode_with_onyx(tmp_path, encoded, pixel_format)
    assert actual.dtype == np.uint8 and actual.shape == expected.shape
    difference = np.abs(actual.astype(int) - expected.astype(int)).max()
    assert difference <= (LOSSY_TOLERANCE if lossy else 0), f"max difference {difference}"


@pytest.mark.parametrize("name, data, mention", [
    ("garbage", b"not an image at all", "unrecognised image format"),
    ("truncated_jpeg", None, "JPEG"),
    ("truncated_png", None, "PNG"),
    ("huge_pnm", b"P6\n100000 100000\n255\n\x00", "size"),
    ("short_pnm", b"P6\n4 4\n255\n\x00\x01", "PNM"),
    ("bmp_offset_outside", b"BM" + b"\x00" * 8 + b"\xff\xff\xff\x00" + (40).to_bytes(4, "little")
     + (4).to_bytes(4, "little") * 2 + b"\x01\x00\x18\x00" + b"\x00" * 24, "BMP"),
])
def test_malformed_data_gives_one_error_line(tmp_path, name, data, mention):
    if name == "truncated_jpeg":
        data = encode(random_image("RGB"), "JPEG").tobytes()[:200]
    elif name == "truncated_png":
        data = encode(random_image("RGB"), "PNG").tobytes()[:100]
    model = decoder_model(tmp_path / "decoder.onnx", "RGB")
    np.save(tmp_path / "encoded.npy", np.frombuffer(data, dtype=np.uint8))
    proc = run_onyx("run", model, "--input", f"encoded={tmp_path / 'encoded.npy'}")
    assert_one_error_line(proc, "ImageDecoder", mention)


@pytest.mark.parametrize("case", ["jpeg_rgb", "png_palette", "bmp_palette", "ppm", "tiff_lzw",
                                  "webp_lossy", "jpeg2000_lossless"])
def test_corrupted_images_never_crash(tmp_path, case):
    """Truncations and byte flips of a valid file: onyx decodes something or reports one error,
    never dies by a signal (decoder libraries longjmp or read past buffers when misused)."""
    encoded = CASES[case][0]().tobytes()
    rng = np.random.default_rng(7)
    variants = [encoded[:n] for n in (1, 8, len(encoded) // 3, len(encoded) - 1)]
    for _ in range(6):
        flipped = bytearray(encoded)
        for position in rng.integers(0, len(flipped), 4):
            flipped[position] ^= 0xFF
        variants.append(bytes(flipped))
    model = decoder_model(tmp_path / "decoder.onnx", "RGB")
    for index, data in enumerate(variants):
        np.save(tmp_path / "encoded.npy", np.frombuffer(data, dtype=np.uint8))
        proc = run_onyx("run", model, "--input", f"encoded={tmp_path / 'encoded.npy'}")
        assert proc.returncode in (0, 1), f"variant {index}: exit {proc.returncode}\n{proc.stderr}"
        if proc.returncode == 1:
            assert_one_error_line(proc, "ImageDecoder")
