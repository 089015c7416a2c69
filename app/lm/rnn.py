"""Character-level recurrent language models: token embedding, L recurrent layers, output layer.

The lecture's (Elman) RNN, for each character x_t of the text:

    h_t = sigmoid(W_xh x_t + W_hh h_{t-1} + b_h)         (tanh as an option)
    y_t = W_hy h_t + b_y
    p(next character | x_1 .. x_t) = softmax(y_t)

`elman` is written out here with an explicit loop over time so it is exactly that formula; `lstm`
and `gru` use torch.nn.LSTM / torch.nn.GRU so cuDNN runs them on a GPU. Every cell shares the same
embedding (x_t is row x_t of `embedding.weight`) and output layer (`W_hy`, `b_y`).

Parameter names in a checkpoint (so a numpy re-implementation can load the same weights):
    embedding.weight          (V, E)   the vector x_t of each character
    rnn.layers.{l}.W_xh       (H, E)   elman; layer l > 0 reads the layer below: (H, H)
    rnn.layers.{l}.W_hh       (H, H)   elman
    rnn.layers.{l}.b_h        (H,)     elman
    rnn.weight_ih_l{l}, rnn.weight_hh_l{l}, rnn.bias_ih_l{l}, rnn.bias_hh_l{l}
                                       lstm / gru, torch's names and gate order
    W_hy                      (V, H)   absent when tied: then W_hy is embedding.weight
    b_y                       (V,)
Weights are stored as float16 (or bfloat16 as its uint16 bit pattern) and loaded back to float32.

Every text is read as if it followed a line break (START), as the corpus's speeches do, so the
first character is predicted from a real context rather than from nothing.
"""

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from app.lm.base import Generator, ModelInfo, Surprisal
from app.lm.checkpoint_file import save_checkpoint
from app.lm.ngram import UNKNOWN, NGramConfig, build_vocabulary

Cell = Literal["elman", "lstm", "gru"]
CELLS: tuple[str, ...] = ("elman", "lstm", "gru")
NONLINEARITIES: tuple[str, ...] = ("sigmoid", "tanh")
WEIGHT_DTYPES: tuple[str, ...] = ("float16", "bfloat16", "float32")
START = "\n"  # the imaginary character before every text
SCORING_CHUNK = 2048  # characters per forward pass when scoring a long text

# The hidden state of all layers: (L, B, H), or the pair (h, c) of them for the LSTM.
Hidden = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


class RNNError(ValueError):
    """A bad architecture, text or checkpoint; the message says which."""


@dataclass(frozen=True)
class RNNConfig:
    cell: Cell = "lstm"  # lstm learns long-range structure best; elman is the lecture's
    nonlinearity: str = "sigmoid"  # elman only: the lecture's sigmoid, or tanh
    embedding_size: int = 64  # E: characters are few, a small vector each is plenty
    hidden_size: int = 512  # H: the memory; char-rnn's Shakespeare model used 512
    layers: int = 2  # L stacked recurrent layers (char-rnn: 2 or 3)
    dropout: float = 0.2  # on the input, between layers and before the output; 0 = off
    tie_weights: bool = False  # W_hy = embedding.weight (needs embedding_size == hidden_size)

    def validated(self) -> "RNNConfig":
        if self.cell not in CELLS:
            raise RNNError(f"cell must be one of {', '.join(CELLS)}, got {self.cell!r}")
        if self.nonlinearity not in NONLINEARITIES:
            raise RNNError(f"nonlinearity must be sigmoid or tanh, got {self.nonlinearity!r}")
        for name in ("embedding_size", "hidden_size", "layers"):
            if not 1 <= getattr(self, name) <= 8192:
                raise RNNError(f"{name} must be between 1 and 8192, got {getattr(self, name)}")
        if not 0 <= self.dropout < 1:
            raise RNNError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.tie_weights and self.embedding_size != self.hidden_size:
            raise RNNError(
                "tied weights need embedding size == hidden size, "
                f"got {self.embedding_size} and {self.hidden_size}"
            )
        return self

    def parameters_dict(self) -> dict:
        """The architecture as a checkpoint records it (the nonlinearity only where it applies)."""
        values = asdict(self)
        if self.cell != "elman":
            values.pop("nonlinearity")
        return values

    @classmethod
    def from_parameters(cls, parameters: dict) -> "RNNConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in parameters.items() if k in known}).validated()


# -- the network -----------------------------------------------------------------------------
class ElmanLayer(nn.Module):
    """One layer of h_t = f(W_xh x_t + W_hh h_{t-1} + b_h), f = sigmoid or tanh."""

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str):
        super().__init__()
        bound = 1 / math.sqrt(hidden_size)  # torch.nn.RNN's initialisation
        self.W_xh = nn.Parameter(torch.empty(hidden_size, input_size).uniform_(-bound, bound))
        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-bound, bound))
        self.b_h = nn.Parameter(torch.empty(hidden_size).uniform_(-bound, bound))
        self.nonlinearity = nonlinearity
        self.f = torch.sigmoid if nonlinearity == "sigmoid" else torch.tanh

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, T, I), h: (B, H) -> every h_t (B, T, H) and the last one (B, H)."""
        # W_xh x_t + b_h for all t in one matmul; only W_hh h_{t-1} has to wait for the last step.
        from_input = F.linear(x, self.W_xh, self.b_h)  # (B, T, H)
        outputs = []
        for t in range(x.shape[1]):
            h = self.f(from_input[:, t] + F.linear(h, self.W_hh))  # (B, H)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h


class ElmanRNN(nn.Module):
    """Stacked Elman layers with the calling convention of torch.nn.GRU (batch first)."""

    def __init__(
        self, input_size: int, hidden_size: int, layers: int, nonlinearity: str, dropout: float
    ):
        super().__init__()
        self.hidden_size = hidden_size
        self.layers = nn.ModuleList(
            ElmanLayer(input_size if i == 0 else hidden_size, hidden_size, nonlinearity)
            for i in range(layers)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, hidden: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, T, E), hidden: (L, B, H) or None for h_0 = 0 -> (B, T, H), (L, B, H)."""
        if hidden is None:
            hidden = x.new_zeros(len(self.layers), x.shape[0], self.hidden_size)
        last = []
        for i, layer in enumerate(self.layers):
            if i > 0:
                x = self.dropout(x)
            x, h = layer(x, hidden[i])
            last.append(h)
        return x, torch.stack(last)


class CharRNN(nn.Module):
    """Embedding -> L recurrent layers -> W_hy h_t + b_y: logits for the next character."""

    def __init__(self, config: RNNConfig, vocab_size: int):
        super().__init__()
        config = config.validated()
        self.config = config
        E, H, L = config.embedding_size, config.hidden_size, config.layers
        self.embedding = nn.Embedding(vocab_size, E)
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)  # small: it may double as W_hy
        self.dropout = nn.Dropout(config.dropout)
        between = config.dropout if L > 1 else 0.0  # torch warns about dropout with one layer
        if config.cell == "elman":
            self.rnn: nn.Module = ElmanRNN(E, H, L, config.nonlinearity, between)
        elif config.cell == "lstm":
            self.rnn = nn.LSTM(E, H, L, dropout=between, batch_first=True)
        else:
            self.rnn = nn.GRU(E, H, L, dropout=between, batch_first=True)
        if config.tie_weights:
            self.W_hy = self.embedding.weight  # the same Parameter under two names
        else:
            bound = 1 / math.sqrt(H)
            self.W_hy = nn.Parameter(torch.empty(vocab_size, H).uniform_(-bound, bound))
        self.b_y = nn.Parameter(torch.zeros(vocab_size))

    def forward(
        self, tokens: torch.Tensor, hidden: Hidden | None = None
    ) -> tuple[torch.Tensor, Hidden]:
        """tokens: (B, T) ids, hidden from the previous call or None -> logits (B, T, V), hidden."""
        x = self.dropout(self.embedding(tokens))  # (B, T, E)
        out, hidden = self.rnn(x, hidden)  # (B, T, H)
        logits = F.linear(self.dropout(out), self.W_hy, self.b_y)  # (B, T, V)
        return logits, hidden

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())  # tied weights count once


def map_hidden(hidden: Hidden, fn) -> Hidden:
    """Apply fn to the hidden tensor, or to both tensors of the LSTM's (h, c)."""
    return tuple(fn(h) for h in hidden) if isinstance(hidden, tuple) else fn(hidden)  # type: ignore[return-value]


# -- generating and scoring ------------------------------------------------------------------
class RNNState:
    """Where K passages stand: the hidden state after reading each so far, (L, K, H) or the LSTM's
    (h, c) of them, and the scores for each passage's next character, `logits` (K, V).

    A state made by a sampling step keeps its hidden state as one copy of the step's Workspace
    buffer (`snapshot`, a single op) and unpacks it into tensors only when `hidden` is read.
    """

    __slots__ = ("_hidden", "logits", "workspace", "snapshot")

    def __init__(
        self,
        hidden: Hidden | None,
        logits: torch.Tensor,
        workspace: "Workspace | None" = None,
        snapshot: torch.Tensor | None = None,
    ):
        self._hidden = hidden
        self.logits = logits  # (K, V)
        self.workspace = workspace  # OneStep's buffers, handed on from state to next state
        self.snapshot = snapshot  # the Workspace buffer as this state left it: (K, width)

    @property
    def hidden(self) -> Hidden:
        if self._hidden is None:
            self._hidden = self.workspace.unpack(self.snapshot)  # type: ignore[union-attr]
        return self._hidden


class RNNModel(Generator):
    """A trained CharRNN behind the Generator interface; inference in eval mode, float32."""

    def __init__(self, network: CharRNN, vocabulary: list[str], info: ModelInfo):
        if vocabulary[0] != UNKNOWN:
            raise RNNError("an RNN vocabulary starts with <unk>")
        self.network = network.float().eval()
        self.config = network.config
        self.vocabulary = vocabulary
        self.token_index = {token: i for i, token in enumerate(vocabulary)}
        self.unknown_id = self.token_index[UNKNOWN]
        self.never_sampled = [self.unknown_id]
        self.info = info
        self.device = next(network.parameters()).device
        self._stepper: OneStep | None = None  # built on first use, for this device

    @classmethod
    def create(
        cls,
        config: RNNConfig,
        vocabulary: list[str],
        name: str = "rnn",
        corpus: str = "",
        corpus_sha256: str = "",
    ) -> "RNNModel":
        """A fresh network with random weights (the trainer's starting point)."""
        network = CharRNN(config, len(vocabulary))
        parameters = config.parameters_dict() | {
            "vocabulary_size": len(vocabulary),
            "parameter_count": network.parameter_count(),
        }
        info = ModelInfo(name, "rnn", "char", parameters, corpus, corpus_sha256)
        return cls(network, vocabulary, info)

    def to(self, device: str | torch.device) -> "RNNModel":
        """Run on another device (the trainer scores on its GPU); checkpoints do not care."""
        self.network.to(device)
        self.device = torch.device(device)
        return self

    def encode(self, text: str) -> np.ndarray:
        """Character ids, <unk> for characters outside the vocabulary. (T,)"""
        get, unknown = self.token_index.get, self.unknown_id
        return np.fromiter((get(ch, unknown) for ch in text), dtype=np.int64, count=len(text))

    def tokenize(self, text: str) -> tuple[list[str], np.ndarray]:
        return list(text), self.encode(text)

    def _tensor(self, ids: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(ids, dtype=torch.long, device=self.device)

    @torch.no_grad()
    def begin(self, prime: str, count: int) -> RNNState:
        # Read START + prime once for one passage, then copy the state for all `count` of them.
        tokens = self._tensor(self.encode(START + prime))[None, :]  # (1, T)
        logits, hidden = self.network(tokens)  # (1, T, V)
        hidden = map_hidden(hidden, lambda h: h.expand(-1, count, -1).contiguous())
        return RNNState(hidden, logits[:, -1].expand(count, -1))  # (K, V)

    # Sampling's two hooks run once per character, so every microsecond shows (400 characters).
    def next_probabilities(self, state: RNNState) -> np.ndarray:
        # No grad mode to enter: logits never require grad (begin and advance run without
        # autograd). The cast to float64 happens inside softmax: the same values as .double().
        p = torch.softmax(state.logits, dim=-1, dtype=torch.float64)  # (K, V)
        return (p if self.device.type == "cpu" else p.cpu()).numpy()

    @torch.inference_mode()  # skips autograd's bookkeeping: a good part of each small op's cost
    def advance(self, state: RNNState, token_ids: np.ndarray) -> RNNState:
        if self._stepper is None or self._stepper.device != self.device:
            self._stepper = OneStep(self.network)
        stepper = self._stepper
        workspace = state.workspace
        if workspace is None or workspace.buffer.device != self.device:
            workspace = stepper.workspace(len(token_ids))
        workspace.load(state)  # nothing to copy when `state` came from this workspace's last step
        logits = stepper.step(token_ids, workspace)  # (K, V)
        return RNNState(None, logits, workspace, workspace.snapshot())

    @torch.no_grad()
    def surprisal(self, text: str) -> Surprisal:
        """One forward pass per chunk of text, the hidden state carried from chunk to chunk."""
        if not text:
            raise RNNError("cannot score an empty text")
        ids = self._tensor(self.encode(START + text))  # (T + 1,)
        hidden, bits = None, []
        for start in range(0, len(text), SCORING_CHUNK):
            inputs = ids[start : start + SCORING_CHUNK]  # (C,) each predicts the next id
            targets = ids[start + 1 : start + 1 + SCORING_CHUNK]
            logits, hidden = self.network(inputs[None, :], hidden)  # (1, C, V)
            log_p = torch.log_softmax(logits[0].float(), dim=-1)  # (C, V)
            bits.append(-log_p.gather(1, targets[:, None])[:, 0] / math.log(2))
        return Surprisal(list(text), torch.cat(bits).double().cpu().numpy())

    def next_token_distribution(self, context: str) -> dict[str, float]:
        """p(next character | context text) as {character: probability}, for teaching and tests."""
        p = self.next_probabilities(self.begin(context, 1))[0]
        return {self.vocabulary[i]: float(p[i]) for i in np.flatnonzero(p)}


class Workspace:
    """OneStep's buffers for one chain of states (K passages), overwritten on every step.

    `buffer` (K, width) holds everything a state needs, so one copy of it saves a state:
        [h_0 | h_1 | ... | h_{L-1}]                  the hidden states, L*H columns
        then for the LSTM, per layer: [o | i | f | g | c]   the gates (o, i, f sigmoid'ed in
                                                     place, g tanh'ed) and the cell state
    Each layer writes its new h_l where its old one was, so layer l > 0 reads its input
    [h_{l-1}, h_l] (the layer below already new, its own still old) as one (K, 2H) view and no
    step concatenates; the LSTM's [i | f] * [g | c] is one product. Every view is made here once;
    a step only runs the arithmetic, in place. States share their chain's Workspace, so one chain
    is advanced by one thread at a time (each sampling call begins its own chain).
    """

    def __init__(self, cell: str, count: int, layers: int, hidden_size: int, device):
        K, L, H = count, layers, hidden_size
        self.cell, self.shape = cell, (K, L, H)
        lstm = cell == "lstm"
        self.buffer = torch.zeros(K, L * H + (L * 5 * H if lstm else 0), device=device)

        def columns(start: int, width: int) -> torch.Tensor:
            return self.buffer[:, start : start + width]  # (K, width)

        self.h_layers = [columns(i * H, H) for i in range(L)]  # (K, H) each
        # the input of layer l: h_0 (K, H) for the first, [h_{l-1}, h_l] (K, 2H) above it
        self.inputs = [self.h_layers[0]] + [columns((i - 1) * H, 2 * H) for i in range(1, L)]
        self.scratch = torch.empty(K, H, device=device)
        if lstm:
            self.lstm_layers = []
            for i in range(L):
                at = L * H + i * 5 * H  # this layer's [o | i | f | g | c]
                self.lstm_layers.append(
                    LSTMColumns(
                        gates=columns(at, 4 * H),
                        sigmoid_gates=columns(at, 3 * H),  # o, i, f
                        o=columns(at, H),
                        i_f=columns(at + H, 2 * H),
                        g=columns(at + 3 * H, H),
                        g_c=columns(at + 3 * H, 2 * H),
                        c=columns(at + 4 * H, H),
                    )
                )
            self.products = torch.empty(K, 2 * H, device=device)  # [i g | f c]
            self.ig, self.fc = self.products[:, :H], self.products[:, H:]
        else:
            G = 3 * H if cell == "gru" else H
            self.gates = torch.empty(K, G, device=device)  # (K, G), one layer at a time
        if cell == "gru":  # torch's order r, z, n
            self.h_gates = torch.empty(K, G, device=device)  # W_hh h + b_hh
            self.rz, self.n = self.gates[:, : 2 * H], self.gates[:, 2 * H :]
            self.r, self.z = self.gates[:, :H], self.gates[:, H : 2 * H]
            self.h_rz, self.h_n = self.h_gates[:, : 2 * H], self.h_gates[:, 2 * H :]
        self.holds: torch.Tensor | None = None  # the snapshot equal to the buffer, if any

    def snapshot(self) -> torch.Tensor:
        """A copy of the buffer for a state to keep: (K, width)."""
        self.holds = self.buffer.clone()
        return self.holds

    def unpack(self, snapshot: torch.Tensor) -> Hidden:
        """A snapshot (or the buffer) -> new tensors (L, K, H), or the LSTM's (h, c)."""
        K, L, H = self.shape
        h = snapshot[:, : L * H].reshape(K, L, H).transpose(0, 1).contiguous()
        if self.cell != "lstm":
            return h
        c = snapshot[:, L * H :].reshape(K, L, 5 * H)[:, :, 4 * H :]  # (K, L, H)
        return h, c.transpose(0, 1).contiguous()

    def load(self, state: RNNState) -> None:
        """Make the buffer hold `state`'s hidden state."""
        if state.snapshot is not None and state.snapshot is self.holds:
            return  # the state this workspace made last: already here
        self.load_hidden(state.hidden)

    def load_hidden(self, hidden: Hidden) -> None:
        h, c = hidden if isinstance(hidden, tuple) else (hidden, None)  # (L, K, H) each
        for i, h_layer in enumerate(self.h_layers):
            h_layer.copy_(h[i])
        if c is not None:
            for i, columns in enumerate(self.lstm_layers):
                columns.c.copy_(c[i])
        self.holds = None


@dataclass(frozen=True)
class LSTMColumns:
    """Views of one LSTM layer's columns of a Workspace buffer, each (K, width)."""

    gates: torch.Tensor  # (K, 4H) o, i, f, g: what the layer's addmm writes
    sigmoid_gates: torch.Tensor  # (K, 3H) o, i, f
    o: torch.Tensor  # (K, H)
    i_f: torch.Tensor  # (K, 2H)
    g: torch.Tensor  # (K, H)
    g_c: torch.Tensor  # (K, 2H)
    c: torch.Tensor  # (K, H) the cell state, kept from step to step


class OneStep:
    """One character for K passages at once, weights laid out for it: sampling's inner loop.

    Calling nn.LSTM for a single time step is slow on a CPU (oneDNN repacks the weights on every
    call), and most of a step's work is known in advance: the first layer's input term
    W_ih x_t + b is a row of a (V, G) table, since x_t is one of V embeddings. Later layers read
    [h_below, h] against one concatenated weight, so each layer is one addmm. Those matrix-vector
    products read every weight once per character (12 MB for the 2x512 LSTM) and take most of
    the time; the rest is a few small ops in place on a Workspace's buffers, since each torch op
    costs microseconds of dispatch at this size (more with the caches full of weights). The same
    equations as the network in eval mode (no dropout), tests check they agree; and the same
    float32 operations, one rounding each, as the formulas written out (f * c + i * g, then
    o * tanh(c)), so merging ops into views changed no sampled character.
    """

    def __init__(self, network: CharRNN):
        self.cell = network.config.cell
        self.layers, self.hidden_size = network.config.layers, network.config.hidden_size
        self.device = next(network.parameters()).device
        H = self.hidden_size
        # LSTM gate rows i, f, g, o (torch's order) -> o, i, f, g: the sigmoid ones side by side,
        # i and f next to g and the cell state c in the Workspace ([i | f] * [g | c]).
        order = torch.cat([torch.arange(3 * H, 4 * H), torch.arange(3 * H)])
        embedding = network.embedding.weight.detach().float()  # (V, E)
        self.weights, self.biases = [], []  # per layer; GRU: (W_ih^T, W_hh^T, b_ih, b_hh)
        rnn = network.rnn
        for layer in range(self.layers):
            if self.cell == "elman":
                cell = rnn.layers[layer]  # type: ignore[index]
                w_ih, w_hh, b_ih, b_hh = cell.W_xh, cell.W_hh, cell.b_h, torch.zeros_like(cell.b_h)
            else:
                w_ih, w_hh = (
                    getattr(rnn, f"weight_ih_l{layer}"),
                    getattr(rnn, f"weight_hh_l{layer}"),
                )
                b_ih, b_hh = getattr(rnn, f"bias_ih_l{layer}"), getattr(rnn, f"bias_hh_l{layer}")
            w_ih, w_hh, b_ih, b_hh = (t.detach().float() for t in (w_ih, w_hh, b_ih, b_hh))
            if self.cell == "lstm":
                w_ih, w_hh, b_ih, b_hh = (t[order.to(t.device)] for t in (w_ih, w_hh, b_ih, b_hh))
            if self.cell == "gru":
                # GRU's candidate gate multiplies the hidden term by r, so hidden terms stay apart.
                if layer == 0:  # (V, 3H): W_ih x + b_ih for every character x
                    self.input_table = F.linear(embedding, w_ih, b_ih)
                self.weights.append((w_ih.t().contiguous(), w_hh.t().contiguous(), b_ih, b_hh))
                continue
            if layer == 0:  # (V, G): W_ih x + b_ih + b_hh for every character x
                self.input_table = F.linear(embedding, w_ih, b_ih + b_hh)
                self.weights.append(w_hh.t().contiguous())  # (H, G)
                self.biases.append(None)
            else:
                self.weights.append(torch.cat([w_ih, w_hh], dim=1).t().contiguous())  # (2H, G)
                self.biases.append(b_ih + b_hh)
        self.table_rows = list(self.input_table)  # (G,) each: one passage's row without a gather
        self.f = torch.sigmoid if network.config.nonlinearity == "sigmoid" else torch.tanh
        self.W_hy = network.W_hy.detach().float().t().contiguous()  # (H, V)
        self.b_y = network.b_y.detach().float()
        self.layer_steps = {"lstm": self.lstm_layers, "gru": self.gru_layers}.get(
            self.cell, self.elman_layers
        )

    def workspace(self, count: int) -> Workspace:
        return Workspace(self.cell, count, self.layers, self.hidden_size, self.device)

    def step(self, tokens: torch.Tensor | np.ndarray, ws: Workspace) -> torch.Tensor:
        """tokens: (K,) ids, the Workspace holding the hidden state -> logits (K, V); the Workspace
        then holds the new hidden state."""
        if len(tokens) == 1:
            rows = self.table_rows[int(tokens[0])]  # (G,)
        else:
            rows = self.input_table[torch.as_tensor(tokens, device=self.device)]  # (K, G)
        self.layer_steps(rows, ws)
        return torch.addmm(self.b_y, ws.h_layers[-1], self.W_hy)  # (K, V)

    def lstm_layers(self, rows: torch.Tensor, ws: Workspace) -> None:
        for layer, at in enumerate(ws.lstm_layers):
            bias = rows if layer == 0 else self.biases[layer]  # the table's rows for layer 0
            torch.addmm(bias, ws.inputs[layer], self.weights[layer], out=at.gates)  # (K, 4H)
            at.sigmoid_gates.sigmoid_()
            at.g.tanh_()
            torch.mul(at.i_f, at.g_c, out=ws.products)  # [i g | f c]
            torch.add(ws.fc, ws.ig, out=at.c)  # c = f c + i g
            torch.tanh(at.c, out=ws.scratch)
            torch.mul(at.o, ws.scratch, out=ws.h_layers[layer])  # h = o tanh(c)

    def elman_layers(self, rows: torch.Tensor, ws: Workspace) -> None:
        for layer in range(self.layers):
            bias = rows if layer == 0 else self.biases[layer]
            torch.addmm(bias, ws.inputs[layer], self.weights[layer], out=ws.gates)  # (K, H)
            self.f(ws.gates, out=ws.h_layers[layer])

    def gru_layers(self, rows: torch.Tensor, ws: Workspace) -> None:
        for layer in range(self.layers):
            w_ih, w_hh, b_ih, b_hh = self.weights[layer]
            if layer == 0:
                ws.gates.copy_(rows)  # (K, 3H): W_ih x + b_ih
            else:
                torch.addmm(b_ih, ws.h_layers[layer - 1], w_ih, out=ws.gates)  # (K, 3H)
            h = ws.h_layers[layer]
            torch.addmm(b_hh, h, w_hh, out=ws.h_gates)  # (K, 3H)
            ws.rz.add_(ws.h_rz).sigmoid_()  # r, z = sigmoid(x_rz + h_rz)
            torch.mul(ws.r, ws.h_n, out=ws.scratch)
            ws.scratch.add_(ws.n).tanh_()  # n = tanh(x_n + r h_n)
            torch.lerp(ws.scratch, h, ws.z, out=h)  # (1 - z) n + z h

    def __call__(self, tokens: torch.Tensor, hidden: Hidden) -> tuple[torch.Tensor, Hidden]:
        """tokens: (K,), hidden: (L, K, H) or (h, c) -> logits (K, V), new hidden."""
        ws = self.workspace(len(tokens))
        ws.load_hidden(hidden)
        logits = self.step(tokens, ws)
        return logits, ws.unpack(ws.buffer)


def char_vocabulary(text: str) -> list[str]:
    """The n-gram char models' vocabulary: <unk>, printable ASCII, newline and the text's own."""
    return build_vocabulary(list(text), NGramConfig(unit="char"))


# -- checkpoints -------------------------------------------------------------------------------
def arrays_of(network: CharRNN, dtype: str = "float16") -> dict[str, np.ndarray]:
    """The weights as numpy arrays in `dtype`; bfloat16 as its uint16 bit pattern (numpy has no
    bfloat16: float32 bits = uint16 bits << 16). A tied W_hy is not stored twice."""
    if dtype not in WEIGHT_DTYPES:
        raise RNNError(f"weights dtype must be one of {', '.join(WEIGHT_DTYPES)}, got {dtype!r}")
    arrays = {}
    for name, tensor in network.state_dict().items():
        if name == "W_hy" and network.config.tie_weights:
            continue
        tensor = tensor.detach().float().cpu()
        if dtype == "bfloat16":
            arrays[name] = tensor.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
        else:
            arrays[name] = tensor.numpy().astype(dtype)
        if dtype == "float16" and not np.isfinite(arrays[name]).all():
            raise RNNError(f"{name} has weights too large for float16; save as bfloat16")
    return arrays


def state_dict_of(arrays: dict[str, np.ndarray], tie_weights: bool) -> dict[str, torch.Tensor]:
    """Checkpoint arrays (float16, bfloat16 bits or float32) -> float32 tensors for the network."""
    state = {}
    for name, array in arrays.items():
        if array.dtype == np.uint16:
            array = (array.astype(np.uint32) << 16).view(np.float32)
        state[name] = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    if tie_weights:
        state["W_hy"] = state["embedding.weight"]
    return state


def load_rnn_from_arrays(
    arrays: dict[str, np.ndarray], info: ModelInfo, vocabulary: list[str]
) -> RNNModel:
    """Rebuild a model from a checkpoint's arrays (see app/lm/checkpoints.py)."""
    config = RNNConfig.from_parameters(info.parameters)
    network = CharRNN(config, len(vocabulary))
    try:
        network.load_state_dict(state_dict_of(arrays, config.tie_weights), strict=True)
    except (RuntimeError, KeyError) as error:
        raise RNNError(f"weights do not fit the architecture: {error}") from None
    return RNNModel(network, vocabulary, info)


def save_rnn(model: RNNModel, out: str | Path, weights_dtype: str = "float16") -> Path:
    """Write the model's checkpoint (".safetensors" is added to `out` when missing)."""
    model.info.training["weights_dtype"] = weights_dtype
    return save_checkpoint(
        out, arrays_of(model.network, weights_dtype), model.info, model.vocabulary
    )
