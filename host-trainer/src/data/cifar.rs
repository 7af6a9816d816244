//! The CIFAR-10 binary format: records of one label byte then 3 x 32 x 32
//! pixel bytes (red, green, blue planes).

use std::path::Path;

use super::{DataError, Dataset, InputShape, read_file};

/// Shape of a CIFAR-10 image.
pub const CIFAR_SHAPE: InputShape = InputShape {
    channels: 3,
    height: 32,
    width: 32,
};

/// The class names of CIFAR-10, label order.
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Reads one or more CIFAR-10 binary batch files into one set.
pub fn read_cifar10(paths: &[&Path]) -> Result<Dataset, DataError> {
    let record = 1 + CIFAR_SHAPE.len();
    let mut set = Dataset {
        shape: CIFAR_SHAPE,
        values: Vec::new(),
        labels: Vec::new(),
        class_names: CIFAR10_CLASSES.map(String::from).to_vec(),
        channel_names: Vec::new(),
    };
    for path in paths {
        let bytes = read_file(path)?;
        if bytes.is_empty() || bytes.len() % record != 0 {
            return Err(DataError::Format {
                path: path.to_path_buf(),
                reason: format!(
                    "{} bytes is not a whole number of {record}-byte CIFAR-10 records",
                    bytes.len()
                ),
            });
        }
        for chunk in bytes.chunks_exact(record) {
            if chunk[0] > 9 {
                return Err(DataError::Format {
                    path: path.to_path_buf(),
                    reason: format!("label {} is not in 0..=9", chunk[0]),
                });
            }
            set.labels.push(chunk[0]);
            set.values
                .extend(chunk[1..].iter().map(|&b| f32::from(b) / 255.0));
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_generated_fixture_and_rejects_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = Vec::new();
        for label in [4u8, 9] {
            bytes.push(label);
            bytes.extend((0..CIFAR_SHAPE.len()).map(|i| (i % 256) as u8));
        }
        let path = dir.path().join("data_batch_1.bin");
        std::fs::write(&path, &bytes).unwrap();
        let set = read_cifar10(&[&path]).unwrap();
        assert_eq!(set.labels, vec![4, 9]);
        assert_eq!(set.image(1)[255], 1.0);
        assert_eq!(set.image(1)[1024], 0.0); // green plane starts again at 0
        std::fs::write(&path, &bytes[..100]).unwrap();
        assert!(
            read_cifar10(&[&path])
                .unwrap_err()
                .to_string()
                .contains("data_batch_1.bin")
        );
        bytes[0] = 10;
        std::fs::write(&path, &bytes).unwrap();
        assert!(
            read_cifar10(&[&path])
                .unwrap_err()
                .to_string()
                .contains("label 10")
        );
    }
}
