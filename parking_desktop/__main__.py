from parking_desktop.cli.main import run

if __name__ == "__main__":
    raise SystemExit(run())
