//! Building the firmware for one model, running it in QEMU and reading its
//! decoded defmt log.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::firmware_dir;

/// How long one QEMU run may take unless `QEMU_TIMEOUT` (seconds) says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// One firmware run in QEMU.
#[derive(Debug, Clone)]
pub struct DeviceRun {
    /// QEMU's exit status; `None` when it was killed at the timeout.
    pub status: Option<i32>,
    /// The decoded log, one `LEVEL message` line per defmt message.
    pub log: Vec<String>,
}

impl DeviceRun {
    /// The `key=value` fields of the first log message that starts with
    /// `prefix` (e.g. `"summary:"`).
    pub fn fields(&self, prefix: &str) -> Option<HashMap<&str, &str>> {
        let line = self.log.iter().find_map(|l| {
            let (_level, message) = l.split_once(' ')?;
            Some(message.trim_start()).filter(|m| m.starts_with(prefix))
        })?;
        Some(
            line.split_whitespace()
                .filter_map(|t| t.split_once('='))
                .collect(),
        )
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

/// Serialises builds: they share the firmware's target directory.
static BUILD: Mutex<()> = Mutex::new(());
/// Numbers the ELF copies of this process.
static BUILDS: AtomicUsize = AtomicUsize::new(0);

/// Builds the firmware (through `firmware/build.sh`, which picks the
/// toolchain) with `model` and `vectors` embedded, and returns a copy of
/// the ELF that later builds do not overwrite.
pub fn build_firmware(model: &Path, vectors: &Path) -> io::Result<PathBuf> {
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let output = Command::new("bash")
        .arg(firmware_dir().join("build.sh"))
        .env("CERT_MODEL", model.canonicalize()?)
        .env("CERT_VECTORS", vectors.canonicalize()?)
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "firmware/build.sh failed ({})",
            output.status
        )));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let built = firmware_dir().join(stdout.lines().last().unwrap_or_default().trim());
    let dir = firmware_dir().join("target/e2e");
    std::fs::create_dir_all(&dir)?;
    let stem = model.file_stem().unwrap_or_default().to_string_lossy();
    let n = BUILDS.fetch_add(1, Ordering::Relaxed);
    let elf = dir.join(format!("{stem}-{n}.elf"));
    std::fs::copy(&built, &elf)?;
    Ok(elf)
}

/// Runs `elf` in QEMU (mps2-an386, `-icount shift=0`) and decodes its log
/// with `defmt-print`; kills QEMU after `QEMU_TIMEOUT` seconds (120).
pub fn run_qemu(elf: &Path) -> io::Result<DeviceRun> {
    let timeout = std::env::var("QEMU_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
    let mut qemu = Command::new("qemu-system-arm")
        .args(["-machine", "mps2-an386", "-cpu", "cortex-m4", "-nographic"])
        .args(["-monitor", "none", "-serial", "none"])
        .args(["-semihosting-config", "enable=on,target=native"])
        .args(["-icount", "shift=0", "-kernel"])
        .arg(elf)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| {
            io::Error::other(format!(
                "qemu-system-arm: {e} (apt-get install qemu-system-arm)"
            ))
        })?;
    let frames = qemu.stdout.take().expect("piped stdout");
    let decoder = Command::new("defmt-print")
        .arg("-e")
        .arg(elf)
        .args(["--log-format", "{L} {s}"])
        .stdin(frames)
        .stdout(Stdio::piped())
        .spawn();
    let decoder = match decoder {
        Ok(decoder) => decoder,
        Err(e) => {
            let _ = qemu.kill();
            return Err(io::Error::other(format!(
                "defmt-print: {e} (cargo install defmt-print --locked)"
            )));
        }
    };
    // Read the log while QEMU runs, or a long log would fill the pipe.
    let reader = thread::spawn(move || decoder.wait_with_output());
    let status = wait_until(&mut qemu, Instant::now() + timeout)?;
    let output = reader.join().expect("log reader")?;
    Ok(DeviceRun {
        status: status.and_then(|s| s.code()),
        log: String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
    })
}

/// Waits for `child` until `deadline`, then kills it (`None`).
fn wait_until(
    child: &mut std::process::Child,
    deadline: Instant,
) -> io::Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            child.kill()?;
            child.wait()?;
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Builds the firmware for `model` and `vectors`, runs it and returns the
/// ELF (for sizes) and the run.
pub fn check_on_device(model: &Path, vectors: &Path) -> io::Result<(PathBuf, DeviceRun)> {
    let elf = build_firmware(model, vectors)?;
    let run = run_qemu(&elf)?;
    Ok((elf, run))
}
