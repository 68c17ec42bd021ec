"""Grouping vectors into themes: k-means with the number of themes read from the data (the
silhouette), on an LSA projection for large corpora. Deterministic: every random choice is
seeded."""

from __future__ import annotations

from typing import Any

SEED = 0
# Model selection (how many themes) runs on a sample, so it costs the same at any corpus size.
SELECTION_SAMPLE = 1500
# Above this many distinct texts, k-means runs on an LSA projection (faster, and steadier themes).
LSA_MIN_DOCS = 40
LSA_COMPONENTS = 80
# A small corpus gets fewer topic directions: about one for every few texts.
LSA_DOCS_PER_COMPONENT = 8
LSA_FIT_SAMPLE = 4000
# Two texts sharing less than this cosine similarity have nothing in common worth a theme.
RELATED = 0.1
# Up to this many rows, identical vectors are counted first (larger weeks seldom have them).
DISTINCT_CHECK = 5000


def cluster(space: Any, max_themes: int) -> list[int]:
    """A theme number per row. How many themes is read from the data: the silhouette picks
    among 2..max_themes; a corpus no bigger than max_themes is grouped by similarity."""
    import numpy as np

    n = space.shape[0]
    if n == 1 or max_themes == 1:
        return [0] * n
    if n <= max_themes:  # a handful of texts: group what shares words, nothing more
        sims = (space @ space.T).toarray() if hasattr(space, "toarray") else space @ space.T
        return components(np.asarray(sims) >= RELATED)
    if n <= DISTINCT_CHECK and not hasattr(space, "toarray"):
        # Dense rows (LSA, embeddings) can coincide: no more themes than distinct points.
        distinct = len(np.unique(np.round(np.asarray(space), 6), axis=0))
        if distinct == 1:
            return [0] * n
        max_themes = min(max_themes, distinct)
    rng = np.random.RandomState(SEED)
    sample = np.sort(rng.permutation(n)[:SELECTION_SAMPLE]) if n > SELECTION_SAMPLE else None
    chosen = space[sample] if sample is not None else space
    best = choose_k(chosen, min(max_themes, chosen.shape[0] - 1))
    if sample is None:
        return [int(x) for x in best.labels_]
    from sklearn.cluster import KMeans

    final = KMeans(best.n_clusters, init=best.cluster_centers_, n_init=1, random_state=SEED)
    final.fit(space)
    return [int(x) for x in final.labels_]


def lsa(tfidf: Any, fit_on: Any | None = None) -> Any:
    """The vectors k-means sees: TF-IDF rows, or their LSA projection for large corpora. The
    topic directions are learned from `fit_on` (the group's history with the week) when given,
    else from (a sample of) the rows themselves."""
    from sklearn.preprocessing import normalize

    features = tfidf.shape[1]
    basis = tfidf if fit_on is None else fit_on
    if basis.shape[0] < LSA_MIN_DOCS or features <= LSA_COMPONENTS:
        return tfidf
    import numpy as np
    from sklearn.decomposition import TruncatedSVD

    rows = basis.shape[0]
    components = min(LSA_COMPONENTS, max(2, rows // LSA_DOCS_PER_COMPONENT), features - 1)
    svd = TruncatedSVD(components, algorithm="randomized", n_iter=4, random_state=SEED)
    if rows > LSA_FIT_SAMPLE:
        basis = basis[np.sort(np.random.RandomState(SEED).permutation(rows)[:LSA_FIT_SAMPLE])]
    svd.fit(basis)
    return normalize(svd.transform(tfidf))


def choose_k(space: Any, k_max: int) -> Any:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    best: Any = None
    best_score = -2.0
    for k in range(2, max(2, k_max) + 1):
        model = KMeans(k, n_init=3, random_state=SEED).fit(space)
        if len(set(model.labels_)) < 2:
            continue
        score = float(silhouette_score(space, model.labels_, metric="cosine"))
        # A bigger k must earn its place: ties keep the smaller, simpler answer.
        if score > best_score + 1e-6:
            best, best_score = model, score
    if best is None:
        best = KMeans(2, n_init=3, random_state=SEED).fit(space)
    return best


def components(adjacent: Any) -> list[int]:
    """Connected components of a small similarity graph, numbered in document order."""
    n = len(adjacent)
    out = [-1] * n
    label = 0
    for start in range(n):
        if out[start] >= 0:
            continue
        stack = [start]
        out[start] = label
        while stack:
            i = stack.pop()
            for j in range(n):
                if adjacent[i][j] and out[j] < 0:
                    out[j] = label
                    stack.append(j)
        label += 1
    return out
