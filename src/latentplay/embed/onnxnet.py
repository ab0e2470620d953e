"""``onnx:PATH``: any image network exported to ONNX, run with onnxruntime on the CPU.

Face-recognition networks are distributed this way (InsightFace's ArcFace models such as
``w600k_r50.onnx``, and most models trained with its tools); an ImageNet classifier exported
without its last layer gives the generic features LatentPlay's t-SNE plots used. The file is
given by path; nothing is downloaded. Needs ``onnxruntime`` (``pip install 'latentplay[onnx]'``).

    >>> emb = make_embedder("onnx:w600k_r50.onnx")             # ArcFace-aligned 112 x 112 faces
    >>> emb = make_embedder("onnx:resnet18.onnx", ["align=none", "pixels=imagenet"])
    >>> z, found = emb.embed_rows(photos)                      # (N, 512), (N,) face found

With ``align=arcface`` (the default) each image's largest face is found with dlib's HOG
detector, its five points (eye centres, nose tip, mouth corners) read from the 68 landmarks and
the face warped onto ArcFace's template at the network's input size
(:mod:`latentplay.embed.arcface`); with ``detector=scrfd:PATH`` an SCRFD network finds the face
and places the five points itself (InsightFace's pipeline, e.g. ``det_10g.onnx`` with
``w600k_r50.onnx``). ``align=box`` crops the upright square around the face box
(InsightFace's attribute models). With ``align=none`` images are resized to the input size
(already aligned faces, or non-face networks): a non-square image is squashed, not cropped,
unless ``crop`` < 1 first keeps a centred square; ``align=centre`` resizes the shorter side to
the input (bicubic) and keeps the centred square, as CLIP's preprocessing does (not
torchvision's ImageNet classifiers': they resize the shorter side to 256, bilinear, and keep
the centred 224); ``align=dlib`` takes dlib's upright face chip instead (what FairFace's race,
gender and age classifiers were trained on).

The network is tried on blank images when it is opened: one whose file declares any batch size
but which fails on two images (a graph exported with a batch of 1 built into a reshape) is run
one image at a time; one that returns other than one row per image is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from latentplay.embed.base import Embedder, Images, as_list, file_digest
from latentplay.embed.faces import FaceModels, check_face_options, detector_digest, face_chips
from latentplay.errors import UserError, first_line

# pixel value v in 0..255 -> (v / scale - mean) / std, per channel in RGB order
PIXELS: dict[str, tuple[float, tuple[float, ...], tuple[float, ...]]] = {
    "arcface": (1.0, (127.5,), (127.5,)),           # InsightFace: (v - 127.5) / 127.5
    "facenet": (1.0, (127.5,), (128.0,)),           # FaceNet ports: (v - 127.5) / 128
    "imagenet": (255.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "clip": (255.0, (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
    "unit": (255.0, (0.0,), (1.0,)),                # v / 255
    "raw": (1.0, (0.0,), (1.0,)),                   # v: the network normalises itself
}
AUTO_PIXELS = "auto"  # raw when the graph normalises itself (InsightFace's rule), else arcface
ALIGNS = ("arcface", "dlib", "box", "none", "centre")
WHOLE_IMAGE = ("none", "centre")  # aligns that take the whole image: no face looked for
ENGINES = ("onnxruntime", "torch")
INPUT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16,
               "tensor(double)": np.float64}


@dataclass
class OnnxConfig:
    """Options of the ``onnx:PATH`` embedder.

    Attributes:
        path: the ``.onnx`` file, usually given as ``onnx:PATH``.
        align: ``arcface`` (detect the face and warp it onto ArcFace's five-point template),
            ``dlib`` (detect it and take dlib's upright chip with ``padding``: FairFace's
            classifiers), ``box`` (the upright square around the detector's box, its side
            the box's longer side times ``1 + 2 padding``: InsightFace's attribute models) or
            ``none`` (resize to the input size, after the centred square ``crop`` when it is
            under 1: a non-square image is otherwise squashed) or ``centre`` (the shorter side
            resized to the input size, bicubic, and the centred square kept: CLIP's
            preprocessing).
        pixels: how 0-255 pixels become the network's input: ``arcface`` ((v - 127.5) / 127.5),
            ``facenet`` ((v - 127.5) / 128),
            ``imagenet`` (v / 255 standardised by ImageNet's channel means and SDs), ``clip``
            (the same with CLIP's means and SDs: an exported CLIP image encoder), ``unit``
            (v / 255), ``raw`` (v) or ``auto`` (InsightFace's rule: ``raw`` when the file's
            first nodes subtract and multiply, i.e. it normalises itself, else ``arcface``).
        bgr: feed the channels in BGR order (networks trained on OpenCV-decoded images).
        output: name of the network output to keep (default: its first output).
        flip: add the embedding of the mirrored face (the usual test-time practice in face
            verification).
        normalize: scale each embedding to unit length.
        size: input side for a network whose input size is not fixed in the file (0: read it).
        crop: with ``align=none``, the centred square kept before resizing, as a fraction of
            the shorter side (1: the whole image; a run exported with ``data.crop`` says its).
        padding: with ``align=dlib``, the margin around the face (dlib's convention); with
            ``align=box``, the margin on each side as a fraction of the box's longer side.
        detect: when aligning, look for the face; False takes every image as a face crop and
            places the landmarks in the whole image.
        detector: ``hog``, ``cnn`` (dlib's CNN: slower, finds more faces) or ``scrfd:PATH``
            (an SCRFD network, whose five points then place the ArcFace crop: InsightFace's
            own pipeline).
        fallback: when aligning, what an image with no detected face gets: ``whole``
            (landmarks placed in the whole image) or ``nan`` (a row of NaN); either way the row
            is listed in the column's record.
        upsample: detector upsampling (-1: automatic, by image size).
        threads: onnxruntime's intra-op threads (0: its default, all cores).
        engine: ``onnxruntime`` (CPU) or ``torch``: the file run by PyTorch
            (:mod:`latentplay.embed.onnx_torch`; onnxruntime's outputs to 1e-4), on ``device``.
        device: where the ``torch`` engine runs (``cpu``, ``cuda`` or ``auto``), and with it
            dlib's CNN detector (``detector=cnn``): the way to embed a large store with a GPU.
    """

    path: str = ""
    align: str = "arcface"
    pixels: str = "arcface"
    bgr: bool = False
    output: str = ""
    flip: bool = False
    normalize: bool = True
    size: int = 0
    crop: float = 1.0
    padding: float = 0.25
    detect: bool = True
    detector: str = "hog"
    fallback: str = "whole"
    upsample: int = -1
    threads: int = 0
    engine: str = "onnxruntime"
    device: str = "cpu"

    def validate(self) -> None:
        if self.align not in ALIGNS:
            raise UserError(f"onnx: align must be one of {', '.join(ALIGNS)}, got {self.align!r}")
        if self.pixels not in PIXELS and self.pixels != AUTO_PIXELS:
            raise UserError(f"onnx: pixels must be one of {', '.join(PIXELS)} or auto, got "
                            f"{self.pixels!r}")
        check_face_options("onnx", self.detector, self.fallback, self.upsample)
        if not 0 < self.crop <= 1:
            raise UserError(f"onnx: crop must be in (0, 1], got {self.crop}")
        if self.size < 0 or self.threads < 0 or not self.padding >= 0:  # NaN too
            raise UserError("onnx: size, padding and threads must be >= 0")
        if self.engine not in ENGINES:
            raise UserError(f"onnx: engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.device != "cpu" and self.engine != "torch":
            raise UserError("onnx: device is the torch engine's; give -o engine=torch too")
        from latentplay.devices import resolve_device

        resolve_device(self.device, "onnx: device")


def centre_square(image: np.ndarray, side: int) -> np.ndarray:
    """``image`` ``(H, W[, C])`` uint8 with its shorter side resized to ``side`` (bicubic) and
    the centred ``side`` square kept, as torchvision's ``Resize(side)`` then ``CenterCrop(side)``
    do: ``(side, side, C)`` uint8."""
    img = Image.fromarray(image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image)
    w, h = img.size
    size = (side, max(side, int(side * h / w))) if w <= h else (max(side, int(side * w / h)), side)
    img = img.resize(size, Image.Resampling.BICUBIC)
    left, top = int(round((size[0] - side) / 2)), int(round((size[1] - side) / 2))
    out = np.asarray(img.crop((left, top, left + side, top + side)), dtype=np.uint8)
    return out[..., None] if out.ndim == 2 else out


def normalises_itself(path: str) -> bool:
    """Whether the network in ``path`` subtracts and multiplies among its first eight nodes
    (or starts with ``bn_data``): InsightFace's test for files fed raw 0-255 pixels."""
    import onnx

    return nodes_normalise(onnx.load(str(path), load_external_data=False).graph.node)


def nodes_normalise(nodes: Any) -> bool:
    """:func:`normalises_itself` of a graph's nodes (``onnx.GraphProto.node``)."""
    names = [node.name.lstrip("/") for node in list(nodes)[:8]]
    subtracts = any(n.startswith(("Sub", "_minus")) for n in names)
    multiplies = any(n.startswith(("Mul", "_mul")) for n in names)
    return (subtracts and multiplies) or "bn_data" in names[:3]


def open_session(path: str, threads: int = 0) -> Any:
    """An onnxruntime CPU session of the network in ``path`` (``threads``: intra-op threads,
    0: all cores); one clear error for a missing onnxruntime or a file it cannot read."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise UserError("ONNX networks need onnxruntime, which is not installed "
                        "(pip install 'latentplay[onnx]')") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only: no warnings about unused initialisers
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own classes for every bad file
        raise UserError(f"could not load {path} as an ONNX network: {first_line(exc)}") from None


def quiet_run() -> Any:
    """onnxruntime run options that log nothing: a network that fails on a batch raises, and
    the embedder reports that as one error line; onnxruntime would also log it in red on
    stderr, as it did when the two-image probe of a batch-of-one network failed on purpose."""
    import onnxruntime as ort

    options = ort.RunOptions()
    options.log_severity_level = 4  # fatal only
    return options


def luma(image: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB as ``(H, W, 1)`` uint8 grey, as PIL converts it (ITU-R 601
    luma): the grey a store's images are read in for a one-channel network."""
    return np.asarray(Image.fromarray(image).convert("L"))[..., None]


@dataclass(frozen=True)
class InputLayout:
    """How a network's image input is laid out: ``channels_first`` (NCHW, else NHWC), the
    number of ``channels`` (1 or 3), the square ``side``, a fixed ``batch`` size (0: any) and
    the NumPy ``dtype`` it takes."""

    channels_first: bool
    channels: int
    side: int
    batch: int
    dtype: type

    @classmethod
    def read(cls, node: Any, size: int, path: str) -> InputLayout:
        """The layout of onnxruntime input ``node``; ``size`` overrides a side the file leaves
        open."""
        shape = list(node.shape)
        if node.type not in INPUT_TYPES:
            raise UserError(f"{path}: the network's input {node.name!r} is {node.type}; "
                            "the onnx embedder feeds float images")
        if len(shape) != 4 or not ({shape[1], shape[3]} & {1, 3}):
            raise UserError(f"{path}: the network's input {node.name!r} has shape {shape}; "
                            "expected (N, C, H, W) or (N, H, W, C) with 1 or 3 channels")
        channels_first = shape[1] in (1, 3)
        h, w = (shape[2], shape[3]) if channels_first else (shape[1], shape[2])
        sides = {s for s in (h, w) if isinstance(s, int) and s > 0}
        if size:
            if sides and sides != {size}:
                raise UserError(f"{path}: the network takes {h}x{w} images, not size={size}")
            sides = {size}
        if len(sides) != 1:
            raise UserError(f"{path}: the network's input is {h}x{w}; give a square size with "
                            "-o size=N" if not sides else
                            f"{path}: the network takes {h}x{w} images; only square inputs "
                            "are supported")
        batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else 0
        return cls(channels_first, shape[1] if channels_first else shape[3], sides.pop(), batch,
                   INPUT_TYPES[node.type])


class OnnxEmbedder(Embedder):
    """Embeddings of an ONNX image network: ``(N, dim)`` float32, one output flattened."""

    kind = "onnx"
    config_type = OnnxConfig
    arg_field = "path"

    def __init__(self, config: OnnxConfig) -> None:
        super().__init__(config)
        if not config.path:
            raise UserError("the onnx embedder needs a network file: --with onnx:PATH")
        if Path(config.path).is_dir():
            raise UserError(f"onnx network file {config.path} is a folder, not a file: give the "
                            ".onnx file in it")
        if not Path(config.path).is_file():
            raise UserError(f"onnx network file {config.path} does not exist")
        self.session = open_session(config.path, config.threads)
        self.run_options = quiet_run()
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise UserError(f"{config.path}: the network has {len(inputs)} inputs "
                            f"({', '.join(i.name for i in inputs)}); the onnx embedder feeds one")
        self.input_name = inputs[0].name
        self.layout = InputLayout.read(inputs[0], config.size, config.path)
        outputs = [o.name for o in self.session.get_outputs()]
        if config.output and config.output not in outputs:
            raise UserError(f"{config.path}: no output {config.output!r}; "
                            f"the network's outputs: {', '.join(outputs)}")
        self.output_name = config.output or outputs[0]
        self.graph = None
        self.device = "cpu"  # the torch engine's and dlib's CNN detector's
        if config.engine == "torch":
            from latentplay.devices import resolve_device
            from latentplay.embed.onnx_torch import OnnxGraph

            self.device = resolve_device(config.device, "onnx: device")
            self.graph = OnnxGraph(config.path, self.output_name).to(self.device).eval()
        if config.pixels != AUTO_PIXELS:
            self.pixels = config.pixels
        else:  # the graph read the file already
            raw = self.graph.normalises_itself if self.graph is not None else normalises_itself(config.path)
            self.pixels = "raw" if raw else "arcface"
        if self.layout.channels == 1 and len(PIXELS[self.pixels][1]) > 1:
            raise UserError(f"{config.path}: the network reads one (gray) channel; pixels={self.pixels} "
                            "standardises three (give arcface, facenet, unit or raw)")
        if config.align not in WHOLE_IMAGE:
            FaceModels.load()  # a missing dlib fails here
        self._dim = self._probe()

    def _probe(self) -> int:
        """Run the network on blank images (one, then two): the embedding size, and how many
        images one call of the network takes (``self.step``: the file's fixed batch, else any
        number; a network that declares any batch but fails on two images, e.g. one whose
        graph reshapes to a batch of 1, is run one image at a time). A :class:`UserError`
        when it fails on one image or returns other than one row per image."""
        side, c = self.layout.side, self.layout.channels
        self.step = self.layout.batch
        if not self.step:
            try:
                self._forward(self._prepare(np.zeros((2, side, side, c), np.uint8)))
            except UserError:
                self.step = 1
        dim = self._run(np.zeros((1, side, side, c), np.uint8)).shape[1]
        self._run(np.zeros((2, side, side, c), np.uint8))  # one row per image
        return dim

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def detects_faces(self) -> bool:  # type: ignore[override]
        return self.config.align not in WHOLE_IMAGE and self.config.detect

    @property
    def image_size(self) -> int | None:
        return None if self.config.align != "none" else self.layout.side

    @property
    def image_mode(self) -> str | None:
        whole = self.config.align in WHOLE_IMAGE
        return "L" if self.layout.channels == 1 and whole else "RGB"

    @property
    def image_crop(self) -> float:
        return self.config.crop if self.config.align == "none" else 1.0

    def embed_rows(self, images: Images, rows: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """``(N, dim)`` float32 embeddings and an ``(N,)`` bool mask: face detected (all True
        unless faces are detected)."""
        ims = as_list(images)
        if self.config.align == "centre":
            ims = [centre_square(im, self.layout.side) for im in ims]
        if self.config.align in WHOLE_IMAGE:
            vectors = self.embed_crops(np.stack(ims)) if ims else np.zeros((0, self.dim), np.float32)
            return vectors, np.ones(len(ims), bool)
        cfg = self.config
        chips, found = face_chips(
            ims, lambda models, image, face: models.chip(image, face, cfg.align,
                                                         self.layout.side, cfg.padding),
            detect=cfg.detect, detector=cfg.detector, upsample=cfg.upsample,
            fallback=cfg.fallback, device=self.device)
        keep = np.array([c is not None for c in chips], dtype=bool)
        out = np.full((len(ims), self.dim), np.nan, dtype=np.float32)
        if keep.any():
            kept = np.stack([c if self.layout.channels == 3 else luma(c)
                             for c in chips if c is not None])
            out[keep] = self.embed_crops(kept)
        return out, found

    def embed(self, images: Images) -> np.ndarray:
        return self.embed_rows(images)[0]

    def embed_crops(self, crops: np.ndarray) -> np.ndarray:
        """Embed images already at the network's input size: ``(N, side, side, C)`` uint8 ->
        ``(N, dim)`` float32 (mirrored copies added when ``flip``; unit length when
        ``normalize``)."""
        feats = self._run(crops)
        if self.config.flip:
            feats = feats + self._run(crops[:, :, ::-1])
        if self.config.normalize:
            feats = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
        return feats.astype(np.float32)

    def _prepare(self, crops: np.ndarray) -> np.ndarray:
        """``(N, side, side, C)`` uint8 (or float) crops as the network's input array."""
        scale, mean, std = PIXELS[self.pixels]
        x = crops.astype(np.float32)
        x = (x / scale - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
        if self.config.bgr and x.shape[-1] == 3:
            x = x[..., ::-1]  # the statistics are listed in RGB order
        if self.layout.channels_first:
            x = x.transpose(0, 3, 1, 2)
        return np.ascontiguousarray(x, dtype=self.layout.dtype)

    def _run(self, crops: np.ndarray) -> np.ndarray:
        """The network on ``(N, side, side, C)`` uint8 (or float) crops: ``(N, D)`` float32,
        ``self.step`` images per call (0: all at once)."""
        x = self._prepare(crops)
        step = self.step or max(len(x), 1)
        parts = []
        for start in range(0, len(x), step):
            part = x[start:start + step]
            short = step - len(part) if self.layout.batch else 0
            if short:  # a network exported for a fixed batch: pad the last one
                part = np.concatenate([part, np.zeros((short, *part.shape[1:]), part.dtype)])
            y = np.asarray(self._forward(part), np.float32)
            if (y.shape[0] if y.ndim else 1) != len(part):
                raise UserError(f"{self.config.path}: the network returns {tuple(y.shape)} for "
                                f"{len(part)} images: one row per image needed")
            parts.append(y.reshape(len(part), -1)[:len(part) - short])
        return np.concatenate(parts)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        """The network's output for one batch of prepared inputs; a :class:`UserError` when
        the network fails on it."""
        try:
            if self.graph is None:
                return self.session.run([self.output_name], {self.input_name: x}, self.run_options)[0]
            import torch

            with torch.inference_mode():
                return self.graph(torch.from_numpy(x).float().to(self.device)).float().cpu().numpy()
        except Exception as exc:  # onnxruntime raises its own classes; torch its RuntimeErrors
            raise UserError(f"{self.config.path}: the network fails on a batch of {len(x)} images "
                            f"({first_line(exc)})") from None

    def state_digest(self) -> str:
        return file_digest(self.config.path) + detector_digest(self.config.detector)


EMBEDDER = OnnxEmbedder
