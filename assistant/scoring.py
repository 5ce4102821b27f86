"""A logistic model over named features: how the answer stages turn evidence into probabilities.

The weights are fitted by ``eval/calibrate.py`` on the dev split and stored in the answer configuration
(``assistant/answer_config.json``); the product only predicts. Features are standardised with the mean
and scale seen in fitting, so the weights are comparable and readable ("which signal matters").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, Field, model_validator


class LogisticModel(BaseModel):
    features: list[str]
    weights: list[float]
    bias: float = 0.0
    mean: list[float] = Field(default_factory=list)
    scale: list[float] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shapes(self) -> LogisticModel:
        n = len(self.features)
        if len(self.weights) != n:
            raise ValueError(f"{len(self.weights)} weights for {n} features")
        if not self.mean:
            self.mean = [0.0] * n
        if not self.scale:
            self.scale = [1.0] * n
        if len(self.mean) != n or len(self.scale) != n:
            raise ValueError("mean and scale must have one value per feature")
        return self

    def matrix(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Rows of named features as a matrix in this model's feature order (missing features are 0)."""
        return np.array(
            [[float(r.get(f, 0.0)) for f in self.features] for r in rows], dtype=np.float64
        ).reshape(len(rows), len(self.features))

    def logits(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        x = (self.matrix(rows) - np.asarray(self.mean)) / np.asarray(self.scale)
        return x @ np.asarray(self.weights) + self.bias

    def predict(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Probability of the positive class for each row."""
        if not rows:
            return np.zeros(0)
        return 1.0 / (1.0 + np.exp(-self.logits(rows)))

    def explain(self, row: Mapping[str, float], top: int = 4) -> list[tuple[str, float]]:
        """The features that moved this row's logit most, with their contribution (for the JSON output)."""
        x = (self.matrix([row])[0] - np.asarray(self.mean)) / np.asarray(self.scale)
        contrib = x * np.asarray(self.weights)
        order = np.argsort(-np.abs(contrib))[:top]
        return [(self.features[i], round(float(contrib[i]), 3)) for i in order]


def fit_logistic(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[int],
    features: Sequence[str],
    l2: float = 1.0,
    sample_weight: Sequence[float] | None = None,
    iterations: int = 50,
) -> LogisticModel:
    """L2-regularised logistic regression by Newton's method: deterministic, no random state.

    ``l2`` is the penalty on the standardised weights (not on the bias); 1.0 suits a few hundred rows.
    """
    model = LogisticModel(features=list(features), weights=[0.0] * len(features))
    x = model.matrix(rows)
    y = np.asarray(labels, dtype=np.float64)
    w_s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    mean = x.mean(axis=0) if len(x) else np.zeros(len(features))
    scale = x.std(axis=0) if len(x) else np.ones(len(features))
    scale[scale < 1e-9] = 1.0  # a constant feature gets weight ~0 instead of dividing by zero
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        grad = z.T @ (w_s * (p - y)) + penalty * beta
        hess = (z * (w_s * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return LogisticModel(
        features=list(features),
        weights=[round(float(b), 6) for b in beta[:-1]],
        bias=round(float(beta[-1]), 6),
        mean=[round(float(m), 6) for m in mean],
        scale=[round(float(s), 6) for s in scale],
    )
