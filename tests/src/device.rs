//! Building the QEMU board for one model, running its programs in QEMU
//! through `boards/run-qemu.sh` (the project's one QEMU invocation), and
//! reading their decoded defmt logs.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::boards_dir;

/// The QEMU board.
pub const BOARD: &str = "mps2-an386";
/// Its kernel differential program.
pub const KERNELS: &str = "mps2-an386:kernels";
/// The application every board ships, serving frames over UART0.
pub const SERVE: &str = "mps2-an386:serve";

/// One firmware run in QEMU.
#[derive(Debug, Clone)]
pub struct DeviceRun {
    /// QEMU's exit status (124 when it was killed at the timeout).
    pub status: Option<i32>,
    /// The decoded log, one `LEVEL message` line per defmt message.
    pub log: Vec<String>,
}

impl DeviceRun {
    /// The log messages (without their level) that start with `prefix`.
    pub fn messages<'r>(&'r self, prefix: &'r str) -> impl Iterator<Item = &'r str> + 'r {
        self.log.iter().filter_map(move |l| {
            let (_level, message) = l.split_once(' ')?;
            Some(message.trim_start()).filter(|m| m.starts_with(prefix))
        })
    }

    /// The `key=value` fields of the first log message that starts with
    /// `prefix` (e.g. `"summary:"`).
    pub fn fields<'r>(&'r self, prefix: &'r str) -> Option<HashMap<&'r str, &'r str>> {
        self.messages(prefix).next().map(fields)
    }

    /// One numeric field of the first message starting with `prefix`.
    pub fn number(&self, prefix: &str, key: &str) -> Option<u64> {
        self.fields(prefix)?.get(key)?.parse().ok()
    }

    /// The whole log as one string, for failure messages.
    pub fn log_text(&self) -> String {
        self.log.join("\n")
    }

    /// Panics, showing the log, unless QEMU exited 0 after `cases` cases
    /// that all matched the host.
    pub fn assert_all_matched(&self, cases: usize) {
        let log = format!(
            "{}\n(if cert-runtime's arithmetic changed on purpose, remake the vectors)",
            self.log_text()
        );
        assert_eq!(self.status, Some(0), "device run failed:\n{log}");
        let cases = cases as u64;
        assert_eq!(self.number("summary:", "cases"), Some(cases), "{log}");
        assert_eq!(self.number("summary:", "matched"), Some(cases), "{log}");
    }
}

/// The `key=value` fields of one log message.
pub fn fields(message: &str) -> HashMap<&str, &str> {
    message
        .split_whitespace()
        .filter_map(|t| t.split_once('='))
        .collect()
}

/// Serialises builds: they share the boards' target directory.
static BUILD: Mutex<()> = Mutex::new(());
/// Numbers the ELF copies of this process.
static BUILDS: AtomicUsize = AtomicUsize::new(0);

/// Builds the QEMU board (through `boards/build.sh`, which picks the
/// toolchain) with `model` and `vectors` embedded, and returns copies, that
/// later builds do not overwrite, of the ELF of every program it lists
/// (`mps2-an386`, `mps2-an386:kernels`).
pub fn build_board(model: &Path, vectors: &Path) -> io::Result<HashMap<String, PathBuf>> {
    build_board_with(model, vectors, None)
}

/// [`build_board`] with only the runtime parts `features` names (`Some("")`:
/// none, a dense-only firmware that never refines); `None` builds them all.
pub fn build_board_with(
    model: &Path,
    vectors: &Path,
    features: Option<&str>,
) -> io::Result<HashMap<String, PathBuf>> {
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let mut command = Command::new("bash");
    command
        .arg(boards_dir().join("build.sh"))
        .arg(BOARD)
        .env("CERT_MODEL", model.canonicalize()?)
        .env("CERT_VECTORS", vectors.canonicalize()?);
    if let Some(features) = features {
        command.env("CERT_FEATURES", features);
    }
    let output = command.stderr(Stdio::inherit()).output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "boards/build.sh failed ({})",
            output.status
        )));
    }
    let dir = boards_dir().join("target/e2e");
    std::fs::create_dir_all(&dir)?;
    let stem = model.file_stem().unwrap_or_default().to_string_lossy();
    let n = BUILDS.fetch_add(1, Ordering::Relaxed);
    let mut elves = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Some((program, path)) = line.split_once(' ') else {
            continue;
        };
        let features = features.map_or("all".into(), |f| format!("[{}]", f.replace(' ', "+")));
        let name = format!("{stem}-{}-{features}-{n}.elf", program.replace(':', "-"));
        let copy = dir.join(name);
        std::fs::copy(boards_dir().join(path), &copy)?;
        elves.insert(program.to_owned(), copy);
    }
    Ok(elves)
}

/// Runs `elf` in QEMU through `boards/run-qemu.sh` (mps2-an386, `-icount
/// shift=0`, `QEMU_TIMEOUT` seconds) and reads its decoded log.
pub fn run_qemu(elf: &Path) -> io::Result<DeviceRun> {
    run(Command::new("bash")
        .arg(boards_dir().join("run-qemu.sh"))
        .arg(elf))
}

/// Runs `elf` like [`run_qemu`] with `uart_in` fed to UART0, and returns
/// the run and every byte UART0 sent.
pub fn run_qemu_with_uart(elf: &Path, uart_in: &[u8]) -> io::Result<(DeviceRun, Vec<u8>)> {
    let n = BUILDS.fetch_add(1, Ordering::Relaxed);
    let dir = boards_dir().join("target/e2e");
    std::fs::create_dir_all(&dir)?;
    let (input, output) = (
        dir.join(format!("uart-{n}.in")),
        dir.join(format!("uart-{n}.out")),
    );
    std::fs::write(&input, uart_in)?;
    let run = run(Command::new("bash")
        .arg(boards_dir().join("run-qemu.sh"))
        .arg(elf)
        .env("UART_IN", &input)
        .env("UART_OUT", &output))?;
    let sent = std::fs::read(&output).unwrap_or_default();
    Ok((run, sent))
}

fn run(command: &mut Command) -> io::Result<DeviceRun> {
    let output = command
        .env("DEFMT_LOG_FORMAT", "{L} {s}")
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| io::Error::other(format!("boards/run-qemu.sh: {e}")))?;
    Ok(DeviceRun {
        status: output.status.code(),
        log: String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
    })
}

/// Builds the board for `model` and `vectors`, runs its self-check and
/// returns the ELF (for sizes) and the run.
pub fn check_on_device(model: &Path, vectors: &Path) -> io::Result<(PathBuf, DeviceRun)> {
    let elves = build_board(model, vectors)?;
    let elf = elves
        .get(BOARD)
        .cloned()
        .ok_or_else(|| io::Error::other("boards/build.sh listed no mps2-an386 program"))?;
    let run = run_qemu(&elf)?;
    Ok((elf, run))
}
