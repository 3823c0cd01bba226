"""Cleaning an uploaded photo (照片脱敏): what is taken, what is refused, what is kept.

A photo is taken by what its bytes are, never by its name or declared type: Pillow must
recognise it as JPEG, PNG or WebP (and only those decoders are tried). Limits come from
the settings and are checked on the header, before a pixel is decoded, so a decompression
bomb (a small file declaring a huge image) costs nothing; Pillow's own process-wide
limits are left as they are. The picture is turned upright by its EXIF orientation and
encoded anew from its pixels alone: no EXIF (GPS, camera, time), no XMP, no ICC profile,
no text chunks, no comments survive. A thumbnail (longest side ``THUMBNAIL_PX``) is made
from the same pixels.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from gis.errors import InvalidInput, TooLarge, UnsupportedType

FIELD = "file"
# Pillow format → content type of what is stored.
ACCEPTED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
THUMBNAIL_PX = 320
THUMBNAIL_TYPE = "image/jpeg"
JPEG_QUALITY = 85
WEBP_QUALITY = 85
PNG_COMPRESS_LEVEL = 3
ORIENTATION_TAG = 0x0112
# A JPEG with further pictures after it (MPO: depth maps, HDR gain maps of phone cameras)
# is opened by the JPEG decoder under this name; its first picture is the photo.
ALIASES = {"MPO": "JPEG"}
# Modes each format stores as they are; anything else is converted first.
KEEP_MODES = {
    "JPEG": ("L", "RGB", "CMYK"),
    "PNG": ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"),
    "WEBP": ("RGB", "RGBA"),
}


@dataclass(frozen=True)
class Limits:
    """What one photo may be: bytes of the upload, pixels it declares."""

    max_bytes: int
    max_pixels: int


@dataclass(frozen=True)
class CleanPhoto:
    """A photo as stored: re-encoded without metadata, upright, with its thumbnail."""

    content_type: str
    data: bytes
    thumbnail: bytes
    width: int
    height: int


def check_size(size: int, limits: Limits) -> None:
    """:class:`TooLarge` when an upload of ``size`` bytes is over the limit."""
    if size > limits.max_bytes:
        raise TooLarge(
            f"file: the photo is {size} bytes, over the limit of {limits.max_bytes}",
            field=FIELD,
            limit=limits.max_bytes,
        )
    if size == 0:
        raise InvalidInput("file: the upload is empty", field=FIELD)


def _open(upload: bytes, limits: Limits) -> Image.Image:
    """The image behind ``upload``, header read and checked, pixels not yet decoded."""
    try:
        image = Image.open(io.BytesIO(upload), formats=list(ACCEPTED))
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(None, limits) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedType(
            "file: not a JPEG, PNG or WebP image (checked by its content, not its name)",
            field=FIELD,
        ) from exc
    width, height = image.size
    if width < 1 or height < 1 or width * height > limits.max_pixels:
        image.close()
        raise _too_many_pixels((width, height), limits)
    return image


def _too_many_pixels(size: tuple[int, int] | None, limits: Limits) -> InvalidInput:
    declared = f"declares {size[0]} × {size[1]} pixels" if size else "declares too many pixels"
    return InvalidInput(
        f"file: the image {declared}, over the limit of {limits.max_pixels} pixels",
        field=FIELD,
        limit=limits.max_pixels,
    )


def _decode(image: Image.Image) -> Image.Image:
    """The decoded first frame, turned upright by its EXIF orientation."""
    try:
        image.load()
        orientation = image.getexif().get(ORIENTATION_TAG, 1)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidInput(
            "file: the image is damaged or cut short and cannot be read", field=FIELD
        ) from exc
    if orientation in (2, 3, 4, 5, 6, 7, 8):
        upright = ImageOps.exif_transpose(image)
        assert upright is not None
        return upright
    return image


def _encode(image: Image.Image, fmt: str) -> bytes:
    """``image``'s pixels alone in ``fmt``: nothing of its metadata is handed on."""
    transparency = image.info.get("transparency") if image.mode in ("P", "L", "RGB") else None
    if image.mode not in KEEP_MODES[fmt]:
        alpha = "A" in image.getbands() or transparency is not None
        image = image.convert("RGBA" if alpha and fmt != "JPEG" else "RGB")
        transparency = None
    # Encoders fall back on what the opened file carried (comments, ICC): give them nothing.
    image.info = {}
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=JPEG_QUALITY, exif=b"")
    elif fmt == "PNG":
        extra = {"transparency": transparency} if transparency is not None else {}
        image.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL, **extra)
    else:
        image.save(out, "WEBP", quality=WEBP_QUALITY, exif=b"", xmp=b"", icc_profile="")
    return out.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    scale = THUMBNAIL_PX / max(image.size)
    small = image
    if scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        small = image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
    if small.mode != "RGB":
        rgba = small.convert("RGBA")
        small = Image.new("RGB", rgba.size, (255, 255, 255))
        small.paste(rgba, mask=rgba.getchannel("A"))
    small.info = {}
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80, exif=b"")
    return out.getvalue()


def clean_photo(upload: bytes, limits: Limits) -> CleanPhoto:
    """Check ``upload`` and return it cleaned; :class:`~gis.errors.InvalidInput` (or its
    kinds :class:`TooLarge`, :class:`UnsupportedType`) naming the field ``file`` otherwise."""
    check_size(len(upload), limits)
    with _open(upload, limits) as opened:
        fmt = ALIASES.get(opened.format or "", opened.format or "")
        if fmt not in ACCEPTED:
            raise UnsupportedType(f"file: {fmt or 'this'} images are not taken", field=FIELD)
        upright = _decode(opened)
        width, height = upright.size
        data = _encode(upright, fmt)
        thumbnail = _thumbnail(upright)
    return CleanPhoto(ACCEPTED[fmt], data, thumbnail, width, height)
