"""Where sessions run: local processes, remote hosts over SSH, GitHub Actions runners."""
