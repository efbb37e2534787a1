//! `.npy` and `.npz` arrays to and from burn tensors, with shape and dtype checks.
//!
//! NumPy's formats are the lingua franca of scientific data: reference solutions, operator
//! datasets and trajectories arrive as `.npz` archives. Errors name the file, the array, and the
//! expected against the found shape or dtype.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use npyz::{DType, NpyFile, TypeChar, WriterBuilder};

use crate::{Error, Result};

/// The element values of an array, by kind. Integers of every width are widened to `i64`.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayData {
    /// 32-bit floats (`<f4`).
    F32(Vec<f32>),
    /// 64-bit floats (`<f8`).
    F64(Vec<f64>),
    /// Booleans (`|b1`).
    Bool(Vec<bool>),
    /// Signed or unsigned integers of any width.
    Int(Vec<i64>),
}

impl ArrayData {
    fn len(&self) -> usize {
        match self {
            ArrayData::F32(v) => v.len(),
            ArrayData::F64(v) => v.len(),
            ArrayData::Bool(v) => v.len(),
            ArrayData::Int(v) => v.len(),
        }
    }

    /// The kind's name as used in messages (`f32`, `f64`, `bool`, `int`).
    pub fn kind(&self) -> &'static str {
        match self {
            ArrayData::F32(_) => "f32",
            ArrayData::F64(_) => "f64",
            ArrayData::Bool(_) => "bool",
            ArrayData::Int(_) => "int",
        }
    }
}

/// An n-dimensional array in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub data: ArrayData,
}

impl NpyArray {
    /// An array from its shape and data.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the shape's product differs from the data's length.
    pub fn new(shape: Vec<usize>, data: ArrayData) -> Result<Self> {
        let expected: usize = shape.iter().product();
        if expected != data.len() {
            return Err(Error::ShapeMismatch {
                context: "NpyArray::new".into(),
                expected: format!("{expected} elements for shape {shape:?}"),
                found: vec![data.len()],
            });
        }
        Ok(NpyArray { shape, data })
    }

    /// The array of a float tensor, in the tensor's own precision (f64 stays f64).
    pub fn from_tensor<const D: usize>(tensor: Tensor<D>) -> Self {
        let shape = tensor.dims().to_vec();
        let data = tensor.into_data();
        let data = if data.dtype() == burn::tensor::DType::F64 {
            ArrayData::F64(data.iter::<f64>().collect())
        } else {
            ArrayData::F32(data.iter::<f32>().collect())
        };
        NpyArray { shape, data }
    }

    /// The array of an integer tensor.
    pub fn from_int_tensor<const D: usize>(tensor: Tensor<D, Int>) -> Self {
        let shape = tensor.dims().to_vec();
        NpyArray {
            shape,
            data: ArrayData::Int(tensor.into_data().iter::<i64>().collect()),
        }
    }

    /// The array of a boolean tensor.
    pub fn from_bool_tensor<const D: usize>(tensor: Tensor<D, Bool>) -> Self {
        let shape = tensor.dims().to_vec();
        NpyArray {
            shape,
            data: ArrayData::Bool(tensor.into_data().iter::<bool>().collect()),
        }
    }

    fn check_shape<const D: usize>(
        &self,
        expected: &[Option<usize>; D],
        origin: &Origin,
    ) -> Result<[usize; D]> {
        let fits = self.shape.len() == D
            && expected
                .iter()
                .zip(&self.shape)
                .all(|(e, f)| e.is_none_or(|e| e == *f));
        if !fits {
            let spec: Vec<String> = expected
                .iter()
                .map(|e| e.map_or("_".to_string(), |e| e.to_string()))
                .collect();
            return Err(origin.error(format!(
                "expected shape [{}], found {:?}",
                spec.join(", "),
                self.shape
            )));
        }
        let mut dims = [0; D];
        dims.copy_from_slice(&self.shape);
        Ok(dims)
    }

    /// The array as a float tensor on `device` (in the device's float precision).
    ///
    /// `expected` gives the shape, with `None` for "any size"; integers are converted to floats.
    ///
    /// # Errors
    /// [`Error::Data`] for a shape that does not fit or a boolean array.
    pub fn to_tensor<const D: usize>(
        &self,
        expected: [Option<usize>; D],
        device: &Device,
    ) -> Result<Tensor<D>> {
        self.to_tensor_from(expected, device, &Origin::memory())
    }

    fn to_tensor_from<const D: usize>(
        &self,
        expected: [Option<usize>; D],
        device: &Device,
        origin: &Origin,
    ) -> Result<Tensor<D>> {
        let dims = self.check_shape(&expected, origin)?;
        let data = match &self.data {
            ArrayData::F32(v) => TensorData::new(v.clone(), dims),
            ArrayData::F64(v) => TensorData::new(v.clone(), dims),
            ArrayData::Int(v) => {
                TensorData::new(v.iter().map(|&x| x as f64).collect::<Vec<_>>(), dims)
            }
            ArrayData::Bool(_) => {
                return Err(
                    origin.error("expected a float or int array, found dtype bool".to_string())
                );
            }
        };
        Ok(Tensor::from_data(data, device))
    }

    /// The array as an integer tensor (in the device's int dtype).
    ///
    /// # Errors
    /// [`Error::Data`] for a shape that does not fit or a non-integer array.
    pub fn to_int_tensor<const D: usize>(
        &self,
        expected: [Option<usize>; D],
        device: &Device,
    ) -> Result<Tensor<D, Int>> {
        self.to_int_tensor_from(expected, device, &Origin::memory())
    }

    fn to_int_tensor_from<const D: usize>(
        &self,
        expected: [Option<usize>; D],
        device: &Device,
        origin: &Origin,
    ) -> Result<Tensor<D, Int>> {
        let dims = self.check_shape(&expected, origin)?;
        match &self.data {
            ArrayData::Int(v) => Ok(Tensor::from_data(TensorData::new(v.clone(), dims), device)),
            other => Err(origin.error(format!(
                "expected an int array, found dtype {}",
                other.kind()
            ))),
        }
    }

    /// The array as a boolean tensor.
    ///
    /// # Errors
    /// [`Error::Data`] for a shape that does not fit or a non-boolean array.
    pub fn to_bool_tensor<const D: usize>(
        &self,
        expected: [Option<usize>; D],
        device: &Device,
    ) -> Result<Tensor<D, Bool>> {
        let origin = Origin::memory();
        let dims = self.check_shape(&expected, &origin)?;
        match &self.data {
            ArrayData::Bool(v) => Ok(Tensor::from_data(TensorData::new(v.clone(), dims), device)),
            other => Err(origin.error(format!(
                "expected a bool array, found dtype {}",
                other.kind()
            ))),
        }
    }
}

/// Where an array came from, for error messages.
struct Origin {
    path: PathBuf,
    array: Option<String>,
}

impl Origin {
    fn memory() -> Self {
        Origin {
            path: PathBuf::from("<in-memory array>"),
            array: None,
        }
    }

    fn error(&self, what: String) -> Error {
        let what = match &self.array {
            Some(name) => format!("array `{name}`: {what}"),
            None => what,
        };
        Error::Data {
            path: self.path.clone(),
            what,
        }
    }
}

fn read_array<R: Read>(file: NpyFile<R>, origin: &Origin) -> Result<NpyArray> {
    let shape: Vec<usize> = file.shape().iter().map(|&d| d as usize).collect();
    let fortran = file.order() == npyz::Order::Fortran;
    let dtype = file.dtype();
    let DType::Plain(ts) = &dtype else {
        return Err(origin.error(format!(
            "unsupported dtype {dtype:?}: kiln reads plain f32/f64/bool/int arrays, not structured ones"
        )));
    };
    let bad = |e: io::Error| origin.error(format!("cannot read the array data: {e}"));
    macro_rules! ints {
        ($t:ty) => {
            ArrayData::Int(
                file.into_vec::<$t>()
                    .map_err(bad)?
                    .into_iter()
                    .map(|x| x as i64)
                    .collect(),
            )
        };
    }
    let data = match (ts.type_char(), ts.size_field()) {
        (TypeChar::Float, 4) => ArrayData::F32(file.into_vec::<f32>().map_err(bad)?),
        (TypeChar::Float, 8) => ArrayData::F64(file.into_vec::<f64>().map_err(bad)?),
        (TypeChar::Bool, 1) => ArrayData::Bool(file.into_vec::<bool>().map_err(bad)?),
        (TypeChar::Int, 1) => ints!(i8),
        (TypeChar::Int, 2) => ints!(i16),
        (TypeChar::Int, 4) => ints!(i32),
        (TypeChar::Int, 8) => ints!(i64),
        (TypeChar::Uint, 1) => ints!(u8),
        (TypeChar::Uint, 2) => ints!(u16),
        (TypeChar::Uint, 4) => ints!(u32),
        (TypeChar::Uint, 8) => {
            let values = file.into_vec::<u64>().map_err(bad)?;
            let mut out = Vec::with_capacity(values.len());
            for v in values {
                out.push(i64::try_from(v).map_err(|_| {
                    origin.error(format!(
                        "uint64 value {v} does not fit in i64; convert the array to float"
                    ))
                })?);
            }
            ArrayData::Int(out)
        }
        _ => {
            return Err(origin.error(format!(
                "unsupported dtype `{ts}`: kiln reads f32, f64, bool and integer arrays"
            )));
        }
    };
    let array = NpyArray::new(shape, data).map_err(|e| origin.error(e.to_string()))?;
    Ok(if fortran { to_c_order(array) } else { array })
}

/// Reorders a Fortran-order (column-major) array into C order.
fn to_c_order(array: NpyArray) -> NpyArray {
    let shape = array.shape.clone();
    let n: usize = shape.iter().product();
    // Position in the Fortran buffer of the element at C-order linear index `c`.
    let fortran_index = |mut c: usize| {
        let mut f = 0;
        let mut stride = 1;
        let mut idx = vec![0; shape.len()];
        for (k, &d) in shape.iter().enumerate().rev() {
            idx[k] = c % d.max(1);
            c /= d.max(1);
        }
        for (k, &d) in shape.iter().enumerate() {
            f += idx[k] * stride;
            stride *= d;
        }
        f
    };
    let perm: Vec<usize> = (0..n).map(fortran_index).collect();
    fn gather<T: Clone>(v: &[T], perm: &[usize]) -> Vec<T> {
        perm.iter().map(|&i| v[i].clone()).collect()
    }
    let data = match &array.data {
        ArrayData::F32(v) => ArrayData::F32(gather(v, &perm)),
        ArrayData::F64(v) => ArrayData::F64(gather(v, &perm)),
        ArrayData::Bool(v) => ArrayData::Bool(gather(v, &perm)),
        ArrayData::Int(v) => ArrayData::Int(gather(v, &perm)),
    };
    NpyArray { shape, data }
}

fn open(path: &Path) -> Result<BufReader<File>> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| Error::io(path, e))
}

/// Reads a `.npy` file.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened; [`Error::Data`] when it is not a valid `.npy`
/// file or holds an unsupported dtype.
pub fn read_npy(path: impl AsRef<Path>) -> Result<NpyArray> {
    let path = path.as_ref();
    let origin = Origin {
        path: path.to_path_buf(),
        array: None,
    };
    let file = NpyFile::new(open(path)?).map_err(|e| {
        origin.error(format!(
            "not a valid .npy file ({e}); write it with numpy.save"
        ))
    })?;
    read_array(file, &origin)
}

/// Reads a `.npy` file straight into a float tensor; see [`NpyArray::to_tensor`].
///
/// # Errors
/// As [`read_npy`] and [`NpyArray::to_tensor`].
pub fn load_npy<const D: usize>(
    path: impl AsRef<Path>,
    expected: [Option<usize>; D],
    device: &Device,
) -> Result<Tensor<D>> {
    let path = path.as_ref();
    let origin = Origin {
        path: path.to_path_buf(),
        array: None,
    };
    read_npy(path)?.to_tensor_from(expected, device, &origin)
}

macro_rules! write_with {
    ($options:expr, $shape:expr, $values:expr) => {{
        let mut writer = $options.default_dtype().shape($shape).begin_nd()?;
        writer.extend($values.iter().cloned())?;
        writer.finish()
    }};
}

fn write_to(array: &NpyArray, out: impl io::Write) -> io::Result<()> {
    let shape: Vec<u64> = array.shape.iter().map(|&d| d as u64).collect();
    match &array.data {
        ArrayData::F32(v) => write_with!(npyz::WriteOptions::<f32>::new().writer(out), &shape, v),
        ArrayData::F64(v) => write_with!(npyz::WriteOptions::<f64>::new().writer(out), &shape, v),
        ArrayData::Bool(v) => write_with!(npyz::WriteOptions::<bool>::new().writer(out), &shape, v),
        ArrayData::Int(v) => write_with!(npyz::WriteOptions::<i64>::new().writer(out), &shape, v),
    }
}

/// Writes a `.npy` file (C order, little-endian).
///
/// # Errors
/// [`Error::Io`] when the file cannot be written.
pub fn write_npy(path: impl AsRef<Path>, array: &NpyArray) -> Result<()> {
    let path = path.as_ref();
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    write_to(array, io::BufWriter::new(file)).map_err(|e| Error::io(path, e))
}

/// An open `.npz` archive.
pub struct Npz<R: Read + Seek = BufReader<File>> {
    path: PathBuf,
    archive: npyz::npz::NpzArchive<R>,
}

impl Npz {
    /// Opens a `.npz` archive.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be opened; [`Error::Data`] when it is not a zip archive.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let archive = npyz::npz::NpzArchive::new(open(path)?).map_err(|e| Error::Data {
            path: path.to_path_buf(),
            what: format!("not a valid .npz archive ({e}); write it with numpy.savez"),
        })?;
        Ok(Npz {
            path: path.to_path_buf(),
            archive,
        })
    }
}

impl<R: Read + Seek> Npz<R> {
    /// The names of the arrays in the archive, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.archive.array_names().map(str::to_string).collect();
        names.sort();
        names
    }

    fn origin(&self, name: &str) -> Origin {
        Origin {
            path: self.path.clone(),
            array: Some(name.to_string()),
        }
    }

    /// Reads one array.
    ///
    /// # Errors
    /// [`Error::Data`] when the array is missing (the message lists those present), corrupt, or of
    /// an unsupported dtype.
    pub fn array(&mut self, name: &str) -> Result<NpyArray> {
        let origin = self.origin(name);
        let names = self.names();
        let file = self
            .archive
            .by_name(name)
            .map_err(|e| origin.error(format!("corrupt archive entry ({e})")))?
            .ok_or_else(|| origin.error(format!("no such array; the archive holds {names:?}")))?;
        read_array(file, &origin)
    }

    /// Reads one array as a float tensor; see [`NpyArray::to_tensor`].
    ///
    /// # Errors
    /// As [`Npz::array`], plus shape and dtype mismatches naming the array.
    pub fn tensor<const D: usize>(
        &mut self,
        name: &str,
        expected: [Option<usize>; D],
        device: &Device,
    ) -> Result<Tensor<D>> {
        let origin = self.origin(name);
        self.array(name)?.to_tensor_from(expected, device, &origin)
    }

    /// Reads one array as an integer tensor; see [`NpyArray::to_int_tensor`].
    ///
    /// # Errors
    /// As [`Npz::tensor`].
    pub fn int_tensor<const D: usize>(
        &mut self,
        name: &str,
        expected: [Option<usize>; D],
        device: &Device,
    ) -> Result<Tensor<D, Int>> {
        let origin = self.origin(name);
        self.array(name)?
            .to_int_tensor_from(expected, device, &origin)
    }
}

/// Writes named arrays to a `.npz` archive (uncompressed, like `numpy.savez`).
///
/// # Errors
/// [`Error::Io`] when the file cannot be written.
pub fn write_npz<'a>(
    path: impl AsRef<Path>,
    arrays: impl IntoIterator<Item = (&'a str, &'a NpyArray)>,
) -> Result<()> {
    let path = path.as_ref();
    let io_err = |e: io::Error| Error::io(path, e);
    let mut npz = npyz::npz::NpzWriter::create(path).map_err(io_err)?;
    for (name, array) in arrays {
        let entry = npz.zip_writer();
        entry
            .start_file(
                npyz::npz::file_name_from_array_name(name),
                Default::default(),
            )
            .map_err(|e| io_err(e.into()))?;
        write_to(array, &mut *entry).map_err(io_err)?;
    }
    npz.zip_writer().finish().map_err(|e| io_err(e.into()))?;
    Ok(())
}
