//! Tabular data: a CSV file with a header row, one numeric column per
//! feature and a label column (chosen by name) holding class names.

use std::path::Path;

use super::{DataError, Dataset, InputShape};

/// A CSV file's features and labels, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvTable {
    /// Feature columns, in file order (the label column excluded).
    pub features: Vec<String>,
    /// One row of feature values per data line.
    pub rows: Vec<Vec<f32>>,
    /// One label per row, when the file has the label column.
    pub labels: Option<Vec<String>>,
    /// The line of each row (1-based; the header is line 1), for messages.
    pub lines: Vec<u64>,
}

/// Reads `path`. The label column is `label_column`; without it the table
/// has no labels, unless `label_required`, which makes its absence an error.
/// Every value must be a finite number; rows must have as many fields as
/// the header.
pub fn read_csv(
    path: &Path,
    label_column: &str,
    label_required: bool,
) -> Result<CsvTable, DataError> {
    let format = |reason: String| DataError::Format {
        path: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(file);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format(format!("cannot read the header row: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(format("the file is empty: a header row is needed".into()));
    }
    for (i, name) in header.iter().enumerate() {
        if name.is_empty() || name.contains(',') {
            return Err(format(format!("column {} has no usable name", i + 1)));
        }
        if header[..i].contains(name) {
            return Err(format(format!("column `{name}` appears twice")));
        }
    }
    let label_at = header.iter().position(|h| h == label_column);
    if label_at.is_none() && label_required {
        return Err(format(format!(
            "no label column `{label_column}` (columns: {}); choose it with --label-column",
            header.join(", ")
        )));
    }
    let features: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|&(i, _)| Some(i) != label_at)
        .map(|(_, h)| h.clone())
        .collect();
    if features.is_empty() {
        return Err(format("no feature columns besides the label".into()));
    }
    let mut table = CsvTable {
        features,
        rows: Vec::new(),
        labels: label_at.map(|_| Vec::new()),
        lines: Vec::new(),
    };
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let line = record.position().map_or(0, |p| p.line());
        let cell_error = |column: &str, what: String| DataError::Csv {
            path: path.to_path_buf(),
            line,
            what: format!("column `{column}`: {what}"),
        };
        let mut row = Vec::with_capacity(table.features.len());
        for (i, field) in record.iter().enumerate() {
            if Some(i) == label_at {
                let label = field.trim();
                if label.is_empty() || label.contains(',') {
                    return Err(cell_error(
                        &header[i],
                        format!("`{label}` is not a class name"),
                    ));
                }
                if let Some(labels) = &mut table.labels {
                    labels.push(label.to_string());
                }
                continue;
            }
            let value: f32 = field
                .trim()
                .parse()
                .map_err(|_| cell_error(&header[i], format!("`{field}` is not a number")))?;
            if !value.is_finite() {
                return Err(cell_error(
                    &header[i],
                    format!("{value} is not a finite number"),
                ));
            }
            row.push(value);
        }
        table.rows.push(row);
        table.lines.push(line);
    }
    if table.rows.is_empty() {
        return Err(format("no data rows after the header".into()));
    }
    Ok(table)
}

/// The message of a CSV reading error, with its line.
fn csv_error(path: &Path, e: &csv::Error) -> DataError {
    let line = e.position().map_or(0, |p| p.line());
    let what = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("this row has {len} fields, the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
        _ => e.to_string(),
    };
    DataError::Csv {
        path: path.to_path_buf(),
        line,
        what,
    }
}

impl CsvTable {
    /// The table as a data set over `class_names` (every label must be one
    /// of them): one feature per channel.
    pub fn into_dataset(
        self,
        path: &Path,
        label_column: &str,
        class_names: &[String],
    ) -> Result<Dataset, DataError> {
        let labels = match &self.labels {
            Some(labels) => labels
                .iter()
                .zip(&self.lines)
                .map(|(label, &line)| {
                    class_names
                        .iter()
                        .position(|c| c == label)
                        .map(|c| c as u8)
                        .ok_or_else(|| DataError::Csv {
                            path: path.to_path_buf(),
                            line,
                            what: format!(
                                "column `{label_column}`: class `{label}` is not one of the training classes ({})",
                                class_names.join(", ")
                            ),
                        })
                })
                .collect::<Result<Vec<u8>, DataError>>()?,
            None => vec![0; self.rows.len()],
        };
        Ok(Dataset {
            shape: InputShape::features(self.features.len()),
            values: self.rows.concat(),
            labels,
            class_names: class_names.to_vec(),
            channel_names: self.features,
        })
    }

    /// The class names of the labels, sorted (what a training set defines).
    pub fn class_names(&self) -> Vec<String> {
        let mut names = self.labels.clone().unwrap_or_default();
        names.sort();
        names.dedup();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> std::path::PathBuf {
        let path = dir.join("t.csv");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn error(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), text);
        read_csv(&path, "label", true).unwrap_err().to_string()
    }

    #[test]
    fn reads_features_labels_and_class_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "a,label,b\n1.5,yes,2\n-3,no,4e1\n");
        let table = read_csv(&path, "label", true).unwrap();
        assert_eq!(table.features, ["a", "b"]);
        assert_eq!(table.rows, [vec![1.5, 2.0], vec![-3.0, 40.0]]);
        assert_eq!(table.class_names(), ["no", "yes"]);
        let names = table.class_names();
        let set = table.into_dataset(&path, "label", &names).unwrap();
        assert_eq!(set.labels, [1, 0]);
        assert_eq!(set.shape, InputShape::features(2));
        assert_eq!(set.channel_names, ["a", "b"]);
        let unlabelled = write(dir.path(), "a,b\n1,2\n");
        let table = read_csv(&unlabelled, "label", false).unwrap();
        assert_eq!(table.labels, None);
    }

    #[test]
    fn every_defect_names_file_line_and_column() {
        let ragged = error("a,b,label\n1,2,x\n3,4\n");
        assert!(
            ragged.contains("t.csv:3") && ragged.contains("2 fields"),
            "{ragged}"
        );
        let text = error("a,b,label\n1,2,x\n3,four,y\n");
        assert!(
            text.contains("t.csv:3") && text.contains("`b`") && text.contains("`four`"),
            "{text}"
        );
        let nan = error("a,label\nNaN,x\n");
        assert!(
            nan.contains("t.csv:2") && nan.contains("`a`") && nan.contains("finite"),
            "{nan}"
        );
        let inf = error("a,label\ninf,x\n");
        assert!(inf.contains("finite"), "{inf}");
        let no_label = error("a,class\n1,x\n");
        assert!(
            no_label.contains("no label column `label`") && no_label.contains("a, class"),
            "{no_label}"
        );
        assert!(error("").contains("empty"));
        assert!(error("a,label\n").contains("no data rows"));
        assert!(error("a,a,label\n1,2,x\n").contains("twice"));
        assert!(error("a,label\n1,\n").contains("not a class name"));
        let dir = tempfile::tempdir().unwrap();
        let missing = read_csv(&dir.path().join("nope.csv"), "label", true).unwrap_err();
        assert!(missing.to_string().contains("nope.csv"));
    }

    #[test]
    fn an_unseen_test_class_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "a,label\n1,x\n2,z\n");
        let table = read_csv(&path, "label", true).unwrap();
        let err = table
            .into_dataset(&path, "label", &["x".into(), "y".into()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("t.csv:3") && err.contains("class `z`") && err.contains("x, y"),
            "{err}"
        );
    }
}
