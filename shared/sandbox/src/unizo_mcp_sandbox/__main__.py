"""`python -m unizo_mcp_sandbox` is `unizo-sandbox`."""

import sys

from unizo_mcp_sandbox.cli import main

sys.exit(main())
