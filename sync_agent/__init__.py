"""sync-agent: automates the MQL -> SAL hand-off between marketing and sales.

The package is a library first; ``sync_agent.cli`` is a thin click layer over it.
Layers, lowest first (each imports only from below): ``model``, ``errors``, ``logs`` →
``settings``, ``secrets``, ``triggers``, ``registry`` (the installed connectors) →
``config`` → ``rules`` (pure) → ``audit`` (the SQLite log) → ``engine`` → ``scheduler``
→ ``cli``. Connectors are plugins in the sibling package ``connectors`` (and any other
package registering the ``sync_agent.connectors`` entry points); nothing here names one,
apart from the demo, which runs the shipped sample against the bundled sandbox.
"""

__version__ = "0.1.0"
