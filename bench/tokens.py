"""Token counts for figure 6, with a real tokenizer that works offline: gpt-tokenizer's o200k_base.

tiktoken, the usual Python choice, downloads its encoding files on first use, which CI cannot; the npm
package `gpt-tokenizer` carries o200k_base (the GPT-4o family's encoding) in the package itself.
`nox -s bench` installs it with npm into the session's folder and names that folder in BENCH_TOKENIZER_DIR;
the bench runs it with Node. Other models' tokenizers give other counts.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

__all__ = ["TokenizerMissing", "count_tokens", "tokenizer_name"]

_SCRIPT = """
const { countTokens } = require("gpt-tokenizer/encoding/o200k_base");
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => process.stdout.write(JSON.stringify(JSON.parse(input).map(countTokens))));
"""


class TokenizerMissing(RuntimeError):
    """The tokenizer is not installed where BENCH_TOKENIZER_DIR says (or the variable is not set)."""


def _folder() -> Path:
    folder = os.environ.get("BENCH_TOKENIZER_DIR")
    if not folder or not (Path(folder) / "node_modules" / "gpt-tokenizer").is_dir():
        raise TokenizerMissing(
            "figure 6 counts tokens with the npm package gpt-tokenizer, which is not installed: run the "
            "bench through `nox -s bench`, or `npm install --prefix DIR gpt-tokenizer` and set "
            "BENCH_TOKENIZER_DIR=DIR"
        )
    return Path(folder)


def tokenizer_name() -> str:
    """The encoding and the installed package's version, as the results name them."""
    package = _folder() / "node_modules" / "gpt-tokenizer" / "package.json"
    return f"o200k_base (gpt-tokenizer {json.loads(package.read_text())['version']})"


def count_tokens(texts: Sequence[str]) -> list[int]:
    """The o200k_base token count of each text, in order (one Node process for all of them)."""
    done = subprocess.run(
        ["node", "-e", _SCRIPT],
        input=json.dumps(list(texts)),
        capture_output=True,
        text=True,
        cwd=_folder(),
        check=False,
    )
    if done.returncode != 0:
        raise TokenizerMissing(f"counting tokens with Node failed: {done.stderr.strip()[-500:]}")
    counts = json.loads(done.stdout)
    if not isinstance(counts, list) or len(counts) != len(texts):
        raise TokenizerMissing("counting tokens with Node gave an answer of the wrong shape")
    return [int(n) for n in counts]
