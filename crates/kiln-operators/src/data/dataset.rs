//! Operator datasets: an input and an output array `[N, ...]`, written and read as `.npz`
//! through kiln-core's I/O, with array names chosen by the user.

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use kiln_core::io::{ArrayData, NpyArray, Npz, write_npz};

use crate::{Error, Result};

/// The names of the input and output arrays in a `.npz` file (`x` and `y` by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayNames {
    /// Name of the input array.
    pub input: String,
    /// Name of the output array.
    pub output: String,
}

impl Default for ArrayNames {
    fn default() -> Self {
        ArrayNames::new("x", "y")
    }
}

impl ArrayNames {
    /// Names for the input and output arrays.
    pub fn new(input: impl Into<String>, output: impl Into<String>) -> Self {
        ArrayNames {
            input: input.into(),
            output: output.into(),
        }
    }
}

/// Paired samples of an operator: `input[i]` maps to `output[i]`; both are row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorData {
    /// Input values.
    pub input: Vec<f64>,
    /// Input shape `[N, ...]`.
    pub input_shape: Vec<usize>,
    /// Output values.
    pub output: Vec<f64>,
    /// Output shape `[N, ...]`.
    pub output_shape: Vec<usize>,
}

fn check(
    what: &str,
    values: &[f64],
    shape: &[usize],
    path: &Path,
) -> std::result::Result<(), String> {
    if shape.len() < 2 {
        return Err(format!(
            "the {what} array has shape {shape:?}; expected [N, ...] with at least one \
             dimension per sample (reshape a [N] array to [N, 1])"
        ));
    }
    if shape[0] == 0 {
        return Err(format!(
            "the {what} array holds no samples (shape {shape:?})"
        ));
    }
    if shape.iter().product::<usize>() != values.len() {
        return Err(format!(
            "the {what} array has {} values for shape {shape:?}",
            values.len()
        ));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "the {what} array holds the non-finite value {} at flat index {i} ({}); clean the data",
            values[i],
            path.display()
        ));
    }
    Ok(())
}

fn to_f64(array: NpyArray) -> Vec<f64> {
    match array.data {
        ArrayData::F32(v) => v.into_iter().map(f64::from).collect(),
        ArrayData::F64(v) => v,
        ArrayData::Int(v) => v.into_iter().map(|x| x as f64).collect(),
        ArrayData::Bool(v) => v.into_iter().map(|b| f64::from(u8::from(b))).collect(),
    }
}

impl OperatorData {
    /// Pairs input and output arrays, checking shapes, sample counts and finiteness.
    ///
    /// # Errors
    /// [`Error::Dataset`] (with the path `<in-memory>`) naming what does not fit.
    pub fn new(
        input: Vec<f64>,
        input_shape: Vec<usize>,
        output: Vec<f64>,
        output_shape: Vec<usize>,
    ) -> Result<Self> {
        let data = OperatorData {
            input,
            input_shape,
            output,
            output_shape,
        };
        data.validate(Path::new("<in-memory>"))?;
        Ok(data)
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let bad = |what: String| Error::Dataset {
            path: path.to_path_buf(),
            what,
        };
        check("input", &self.input, &self.input_shape, path).map_err(bad)?;
        check("output", &self.output, &self.output_shape, path).map_err(bad)?;
        if self.input_shape[0] != self.output_shape[0] {
            return Err(bad(format!(
                "the input has {} samples but the output {}; both arrays need the same first \
                 dimension",
                self.input_shape[0], self.output_shape[0]
            )));
        }
        Ok(())
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.input_shape[0]
    }

    /// Whether there are no samples (never true for a validated dataset).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the arrays (as f64) to a `.npz` file under `names`.
    ///
    /// # Errors
    /// I/O errors from kiln-core.
    pub fn write_npz(&self, path: impl AsRef<Path>, names: &ArrayNames) -> Result<()> {
        let input = NpyArray::new(self.input_shape.clone(), ArrayData::F64(self.input.clone()))?;
        let output = NpyArray::new(
            self.output_shape.clone(),
            ArrayData::F64(self.output.clone()),
        )?;
        write_npz(
            path,
            [
                (names.input.as_str(), &input),
                (names.output.as_str(), &output),
            ],
        )?;
        Ok(())
    }

    /// Reads a dataset from any `.npz` holding the arrays `names` (float, int or bool dtype).
    ///
    /// # Errors
    /// kiln-core's errors for a missing file, a non-zip file, a missing array (listing those
    /// present) or an unsupported dtype; [`Error::Dataset`] for ranks below 2, zero samples,
    /// mismatched sample counts or non-finite values.
    pub fn read_npz(path: impl AsRef<Path>, names: &ArrayNames) -> Result<Self> {
        let path = path.as_ref();
        let mut npz = Npz::open(path)?;
        let input = npz.array(&names.input)?;
        let output = npz.array(&names.output)?;
        let data = OperatorData {
            input_shape: input.shape.clone(),
            input: to_f64(input),
            output_shape: output.shape.clone(),
            output: to_f64(output),
        };
        data.validate(path)?;
        Ok(data)
    }

    /// The first `count` samples (all when `count` exceeds the length).
    pub fn take(&self, count: usize) -> OperatorData {
        let n = count.min(self.len());
        let per_in: usize = self.input_shape[1..].iter().product();
        let per_out: usize = self.output_shape[1..].iter().product();
        let mut input_shape = self.input_shape.clone();
        let mut output_shape = self.output_shape.clone();
        input_shape[0] = n;
        output_shape[0] = n;
        OperatorData {
            input: self.input[..n * per_in].to_vec(),
            input_shape,
            output: self.output[..n * per_out].to_vec(),
            output_shape,
        }
    }

    /// The input as a `D`-dimensional tensor in the device's float precision.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the input's rank is not `D`.
    pub fn input_tensor<const D: usize>(&self, device: &Device) -> Result<Tensor<D>> {
        tensor(&self.input, &self.input_shape, "input", device)
    }

    /// The output as a `D`-dimensional tensor in the device's float precision.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the output's rank is not `D`.
    pub fn output_tensor<const D: usize>(&self, device: &Device) -> Result<Tensor<D>> {
        tensor(&self.output, &self.output_shape, "output", device)
    }
}

fn tensor<const D: usize>(
    values: &[f64],
    shape: &[usize],
    what: &str,
    device: &Device,
) -> Result<Tensor<D>> {
    if shape.len() != D {
        return Err(Error::shape(
            &format!("OperatorData::{what}_tensor"),
            format!("rank {D}"),
            shape,
        ));
    }
    Ok(Tensor::from_data(
        TensorData::new(values.to_vec(), shape.to_vec()),
        device,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("kiln-operators-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn datasets_round_trip_under_custom_names() {
        let data = OperatorData::new(
            vec![1.0, 2.0, 3.0, 4.0],
            vec![2, 2],
            vec![5.0, 6.0],
            vec![2, 1],
        )
        .unwrap();
        let path = tmp("round.npz");
        let names = ArrayNames::new("coeff", "sol");
        data.write_npz(&path, &names).unwrap();
        assert_eq!(OperatorData::read_npz(&path, &names).unwrap(), data);
        let err = OperatorData::read_npz(&path, &ArrayNames::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`x`") && msg.contains("coeff"), "{msg}");
    }

    #[test]
    fn malformed_datasets_are_clear_errors() {
        // Mismatched sample counts.
        let path = tmp("bad_counts.npz");
        let a = NpyArray::new(vec![3, 2], ArrayData::F64(vec![0.0; 6])).unwrap();
        let b = NpyArray::new(vec![2, 2], ArrayData::F32(vec![0.0; 4])).unwrap();
        write_npz(&path, [("x", &a), ("y", &b)]).unwrap();
        let msg = OperatorData::read_npz(&path, &ArrayNames::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("3 samples but the output 2"), "{msg}");
        // Rank 1.
        let path = tmp("bad_rank.npz");
        let c = NpyArray::new(vec![3], ArrayData::F64(vec![0.0; 3])).unwrap();
        write_npz(&path, [("x", &c), ("y", &c)]).unwrap();
        let msg = OperatorData::read_npz(&path, &ArrayNames::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("[N, ...]"), "{msg}");
        // NaN.
        let path = tmp("bad_nan.npz");
        let d = NpyArray::new(vec![1, 2], ArrayData::F64(vec![0.0, f64::NAN])).unwrap();
        write_npz(&path, [("x", &d), ("y", &d)]).unwrap();
        let msg = OperatorData::read_npz(&path, &ArrayNames::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("non-finite"), "{msg}");
        // Not a zip archive.
        let path = tmp("garbage.npz");
        std::fs::write(&path, b"not an archive").unwrap();
        assert!(OperatorData::read_npz(&path, &ArrayNames::default()).is_err());
        assert!(OperatorData::read_npz(tmp("missing.npz"), &ArrayNames::default()).is_err());
    }
}
