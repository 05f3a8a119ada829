"""`Library.status()`: what `finder status` and the app's Folders dialog show."""

from __future__ import annotations

from pathlib import Path

from finder.core.indexing.watch_state import read_watch_state
from finder.core.model_switch import ModelSwitch
from finder.core.store.catalog import Catalog
from finder.core.store.model_store import ModelStore
from finder.core.types import FolderStatus, LibraryStatus, Modality


def library_status(
    data_dir: Path,
    catalog: Catalog,
    models: ModelStore,
    switch: ModelSwitch,
    *,
    check_index: bool = True,
) -> LibraryStatus:
    embedder = models.embedder
    counts = catalog.counts()
    status = LibraryStatus(
        data_dir=str(data_dir),
        model=embedder.description,
        model_key=embedder.key,
        schema_version=catalog.schema_version,
        photos=counts["photos"],
        documents=counts["documents"],
        errors=counts["errors"],
        items=counts["items"],
        recent_errors=catalog.errors(limit=10),
    )
    watching = read_watch_state(data_dir)
    if watching is not None:
        status.watcher_pid = int(watching.get("pid", 0)) or None
    watched = watching.get("roots", {}) if watching else {}
    for root in catalog.roots():
        per = catalog.root_counts(root.id)
        how = watched.get(root.path, {})
        status.folders.append(
            FolderStatus(
                root.path,
                Path(root.path).is_dir(),
                **per,
                offline=root.offline,
                watch=str(how.get("mode", "")),
                watch_reason=str(how.get("reason", "")),
            )
        )
    if check_index:
        status.index_state, status.vectors = _index_health(catalog, models)
    switching = switch.progress()
    if switching is not None:
        status.switching_to, status.switch_embedded, status.switch_total = switching
        status.switching_key = switch.chosen().target
    return status


def _index_health(catalog: Catalog, models: ModelStore) -> tuple[str, dict[str, int]]:
    if catalog.find_model_id(models.embedder.key) is None:
        return "empty (nothing indexed with this model yet)", {}
    store = models.store
    return models.open_state, {m.value: store.count(m) for m in Modality}
