"""Names in words of the quantities the engine reports: symbol, meaning, where defined.

The side panel of the app and the documentation show quantities by these names, so a
number on screen is traceable to its definition (docs/model.md). Keys are the engine's
own names (``SRFParams`` fields and ``SRFParams.constants`` keys).
"""

from __future__ import annotations

from dataclasses import dataclass

MODEL_DOC = "docs/model.md"


@dataclass(frozen=True)
class Quantity:
    """A reported quantity: its symbol, what it is, and the docs section defining it."""

    symbol: str
    meaning: str
    section: str = "network-to-srf-mapping"

    @property
    def link(self) -> str:
        """``docs/model.md#<section>``."""
        return f"{MODEL_DOC}#{self.section}"


#: Per-atom parameters of the equivalent spiked random-features model.
SRF_PARAMETERS: dict[str, Quantity] = {
    "a": Quantity("a_k", "value of the second-layer weight (atom k of a_law)"),
    "pi": Quantity("π_k", "probability of atom k"),
    "u": Quantity("u_k", "spike: u_k = η̃ a_k r₀, the size of the learned direction"),
    "s0": Quantity("s0_k", "row rescale 1 + η̃ a_k μ₂ μ₀*"),
    "c": Quantity("c_k", "coherent amplification η̃ a_k μ₂ μ₂* of the rows' θ-component"),
    "s": Quantity("s_k", "row norm after the step (rescale and batch noise)"),
    "nv": Quantity("nv_k", "isotropic row noise of a finite first batch"),
}

#: Scalars of the equivalent model.
SRF_SCALARS: dict[str, Quantity] = {
    "gamma": Quantity("γ", "overlap ⟨v, θ⟩ of the spike direction with the target"),
    "r0": Quantity("r₀", "spike per unit η̃ a: μ₁ μ₁* (large batch)"),
}

#: Hermite constants of the activation σ and of the target σ* (z ~ N(0, 1)).
CONSTANTS: dict[str, Quantity] = {
    "mu0": Quantity("μ₀", "E σ(z): mean of the activation", "conventions"),
    "mu1": Quantity("μ₁", "E z σ(z): linear part of the activation", "conventions"),
    "mu2": Quantity("μ₂", "E (z² − 1) σ(z): quadratic part of the activation", "conventions"),
    "m2": Quantity("E σ²", "E σ(z)²: second moment of the activation", "conventions"),
    "var_fprime": Quantity("Var σ′", "variance of σ′(z): sets a finite batch's row noise"),
    "mu0_star": Quantity("μ₀*", "E σ*(z): mean of the target", "conventions"),
    "mu1_star": Quantity("μ₁*", "E z σ*(z): linear part of the target", "conventions"),
    "mu2_star": Quantity("μ₂*", "E (z² − 1) σ*(z): quadratic part of the target",
                         "conventions"),
    "mus2_star": Quantity("E σ*²", "E σ*(z)²: second moment of the target", "conventions"),
    "ey2": Quantity("E y²", "E σ*² + Δ: second moment of the labels", "conventions"),
    "r_eff_full_residual": Quantity(
        "r_eff", "spike size with the full residual (an approximation beyond the theory)",
        "known-limits"),
}


def describe(name: str) -> Quantity:
    """The :class:`Quantity` of an engine name (the name itself when unknown)."""
    for table in (SRF_PARAMETERS, SRF_SCALARS, CONSTANTS):
        if name in table:
            return table[name]
    return Quantity(name, name)
