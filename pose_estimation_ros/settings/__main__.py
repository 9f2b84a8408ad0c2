"""`python -m pose_estimation_ros.settings`: regenerate config/*.yaml, print the README table."""
import sys
from pathlib import Path

from .files import CONFIGS, config_yaml, readme_table

root = Path(__file__).resolve().parents[2] / "config"
for name, overrides in CONFIGS.items():
    (root / f"{name}.yaml").write_text(config_yaml(name, overrides))
sys.stdout.write(readme_table())
