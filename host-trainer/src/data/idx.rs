//! The IDX format of MNIST: a magic number `0x0000 TT DD` (TT = 0x08 for
//! unsigned bytes, DD = number of dimensions), DD big-endian u32 sizes,
//! then the data. Images are `N x H x W` (one channel) or `N x C x H x W`
//! (channels first); labels are `N` bytes.

use std::path::Path;

use super::{DataError, InputShape, read_file};

fn format_error(path: &Path, reason: impl Into<String>) -> DataError {
    DataError::Format {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Parses the header; returns the dimensions and the data that follows.
fn parse(path: &Path, bytes: &[u8]) -> Result<(Vec<usize>, usize), DataError> {
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(format_error(path, "not an IDX file (bad magic number)"));
    }
    if bytes[2] != 0x08 {
        return Err(format_error(
            path,
            format!(
                "IDX element type {:#04x} is not unsigned byte (0x08)",
                bytes[2]
            ),
        ));
    }
    let rank = usize::from(bytes[3]);
    let header = 4 + 4 * rank;
    if rank == 0 || bytes.len() < header {
        return Err(format_error(path, "truncated IDX header"));
    }
    let dims: Vec<usize> = (0..rank)
        .map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize)
        .collect();
    let count = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    match count {
        Some(n) if bytes.len() == header + n => Ok((dims, header)),
        Some(n) => Err(format_error(
            path,
            format!(
                "IDX header promises {n} values, the file holds {}",
                bytes.len() - header
            ),
        )),
        None => Err(format_error(path, "IDX dimensions overflow")),
    }
}

/// Reads an IDX image file (gzip or raw) as pixels in `[0, 1]`.
pub fn read_idx_images(path: &Path) -> Result<(InputShape, Vec<f32>), DataError> {
    let bytes = read_file(path)?;
    let (dims, start) = parse(path, &bytes)?;
    let shape = match dims[..] {
        [_, h, w] => InputShape {
            channels: 1,
            height: h,
            width: w,
        },
        [_, c, h, w] => InputShape {
            channels: c,
            height: h,
            width: w,
        },
        _ => {
            return Err(format_error(
                path,
                format!("an image file has 3 or 4 dimensions, not {}", dims.len()),
            ));
        }
    };
    if shape.is_empty() {
        return Err(format_error(path, "images have zero size"));
    }
    Ok((
        shape,
        bytes[start..]
            .iter()
            .map(|&b| f32::from(b) / 255.0)
            .collect(),
    ))
}

/// Reads an IDX label file (gzip or raw).
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = read_file(path)?;
    let (dims, start) = parse(path, &bytes)?;
    if dims.len() != 1 {
        return Err(format_error(
            path,
            format!("a label file has 1 dimension, not {}", dims.len()),
        ));
    }
    Ok(bytes[start..].to_vec())
}

/// Encodes images (pixels in `[0, 1]`) as an IDX file, raw.
pub fn write_idx_images(shape: InputShape, pixels: &[f32]) -> Vec<u8> {
    let count = pixels.len() / shape.len();
    let dims: Vec<u32> = if shape.channels == 1 {
        vec![count as u32, shape.height as u32, shape.width as u32]
    } else {
        vec![
            count as u32,
            shape.channels as u32,
            shape.height as u32,
            shape.width as u32,
        ]
    };
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend(
        pixels
            .iter()
            .map(|&p| (p * 255.0).round().clamp(0.0, 255.0) as u8),
    );
    out
}

/// Encodes labels as an IDX file, raw.
pub fn write_idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, 1];
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn round_trips_and_reports_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let shape = InputShape {
            channels: 1,
            height: 2,
            width: 3,
        };
        let pixels: Vec<f32> = (0..12).map(|i| i as f32 / 255.0).collect();
        let images = write(dir.path(), "img", &write_idx_images(shape, &pixels));
        let (s, p) = read_idx_images(&images).unwrap();
        assert_eq!((s, p), (shape, pixels));
        let labels = write(dir.path(), "lbl", &write_idx_labels(&[3, 7]));
        assert_eq!(read_idx_labels(&labels).unwrap(), vec![3, 7]);

        let truncated = write(
            dir.path(),
            "trunc",
            &write_idx_images(shape, &[0.0; 12])[..20],
        );
        let err = read_idx_images(&truncated).unwrap_err().to_string();
        assert!(err.contains("trunc") && err.contains("promises"), "{err}");
        let err = read_idx_images(&dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing"), "{err}");
        let err = read_idx_images(&labels).unwrap_err().to_string();
        assert!(err.contains("3 or 4 dimensions"), "{err}");
        let three = write(dir.path(), "three", &write_idx_labels(&[1, 2, 3]));
        let err = super::super::Dataset::from_idx(&images, &three)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("2 images") && err.contains("3 labels"),
            "{err}"
        );
    }
}
