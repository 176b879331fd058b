import terminalConfig from '#config/terminal'
import { feedbackClockSkewSeconds } from '#services/terminal/terminal_feedback_service'
import type { ResultCode } from '#services/terminal/result_codes'
import type { TerminalEndpoint } from '#services/terminal/protocol'

/**
 * The texts of one endpoint in another language: its summary and
 * description, and each field's and answer field's meaning by name (an
 * answer field's items as `parent.item`).
 */
export type EndpointTranslation = {
  summary: string
  description: string
  fields: Record<string, string>
  answer: Record<string, string>
}

/**
 * The terminal protocol reference (terminal_api_reference.ts) in another
 * language: what /docs shows of it. Paths, flags, field names, code spans
 * and examples stay as they are.
 */
export type ReferenceTranslation = {
  codeNames: Record<ResultCode, string>
  codeMeanings: Partial<Record<ResultCode, string>>
  authentication: { summary: string; headers: Record<string, string> }
  endpoints: Record<TerminalEndpoint, EndpointTranslation>
}

const device = {
  deviceName: '设备名称：字母、数字、空格、“.”、“_”和“-”，最多 64 个字符。在一个站点内唯一。',
  sn: '序列号：字母、数字、“.”、“_”、“:”、“/”和“-”，最多 64 个字符。',
  deviceSN: '序列号，与发给 /faces/api/token 的 `sn` 相同。',
}

const tokenRequired = '来自 /faces/api/token 的令牌（40 个十六进制字符），只能用于一次调用。'
const tokenOptional = '可选：来自 /faces/api/token 的令牌，发送时会被检查并用掉。'
const image = '图片：multipart 文件部分，或表单、JSON 请求体中的 base64 文本（也可以是 data URL）。'

const side = (name: string) =>
  `人脸框的${name}边像素坐标，与 faceDetect 给出的一致。四条边要么都发送，要么都不发送；不发送时使用最大的人脸。`
const box = {
  left: side('左'),
  top: side('上'),
  right: side('右'),
  bottom: side('下'),
}

/** 终端代理等待执行的命令，见于 syncEvents 和 heartbeat 的回答。 */
const agentCommands = {
  'commands':
    '操作员在设备页面下达、设备尚未报告完成的命令，按先后排列。终端代理对每个 `id` 只执行一次，然后在下一次心跳的 `commandsDone` 中列出；命令最多等待几分钟（open_door 为一分钟），之后作废。新命令会让等待中的调用立即回答。',
  'commands.id': '命令编号，用于报告完成。',
  'commands.type':
    '`open_door`（像允许通行时一样开门）、`sync_now`（立即调用 getDbs）或 `restart`（重启代理）。',
  'commands.issuedAt': '下达时间，ISO 8601（UTC）。',
}

const featureBlob = '带版本的特征数据，base64 编码：其中写明生成它的模型。'

export const terminalApiReferenceZh: ReferenceTranslation = {
  codeNames: {
    0: '成功',
    1: '未知错误',
    2: '参数无效',
    3: '引擎不支持',
    4: '内存错误',
    5: '状态错误',
    6: '用户取消',
    7: '已过期',
    8: '暂停',
    9: '缓冲区溢出',
    10: '缓冲区下溢',
    11: '磁盘空间不足',
    12: '组件不存在',
    13: '全局成员数据不存在',
    28672: 'SDK 错误',
    28673: 'APPID 无效',
    28674: 'DETECTKEY 无效',
    28675: 'APPID 与 DETECTKEY 不匹配',
    28676: 'SDKKey 无效',
    28677: '系统版本不支持',
    28678: '授权已过期',
    69632: 'PhotoStyling 错误',
    69633: '引擎句柄无效',
    69634: '内存管理器句柄无效',
    69635: '设备 ID 无效',
    69636: '设备 ID 不支持',
    69637: '模型句柄无效',
    69638: '模型大小无效',
    69639: '图像句柄无效',
    69640: '图像格式不支持',
    69641: '图像参数无效',
    69642: '图像尺寸过大',
    69643: 'CPU 不支持 AVX2',
    73728: '人脸识别基础错误',
    73729: '内存信息无效',
    73730: '人脸识别图像信息无效',
    73731: '人脸信息无效',
    73732: '没有可用的 GPU',
    73733: '特征版本不匹配',
    9001: '设备无权限',
    9002: '需要 POST 参数',
    9003: '序列号或设备名称错误',
    9004: '设备名称与序列号不匹配',
    9005: '参数不完整',
    9006: '未检测到人脸',
    9007: '内部函数错误',
    9111: '图像无法转换为 BGR24',
    9112: '图像无法转换为 NV21',
    9113: '读取文件失败',
    9114: '内存错误',
    9115: '函数参数错误',
    9116: '人脸检测器初始化失败',
    9117: '特征引擎初始化失败',
    9118: '年龄引擎初始化失败',
    9119: '性别引擎初始化失败',
    9120: '比对引擎初始化失败',
    9121: '人脸检测失败',
    9122: '特征提取失败',
    9123: '年龄估计失败',
    9124: '性别估计失败',
    9125: '人脸比对失败',
  },

  codeMeanings: {
    0: '调用成功。',
    2: '某个字段的类型或格式不对（消息中会指出是哪个）；请求体不是一组字段（无效的 JSON、数组）；base64 或特征数据格式错误；人脸框为空；发给 regFace 的 faceData 与图片不符；签名请求头格式错误，或 X-Device-Content-SHA256 不是实际收到的请求体的摘要。',
    3: '此服务器上没有识别引擎提供该调用。',
    5: 'regFace：人脸被留待操作员审核（与此人已注册的人脸不匹配、此人尚无人脸、与另一位已注册的人相似，或调用要改名），或被拒绝：此人没有生物特征同意记录，而此设备也不记录同意（设备页面设置它显示的同意书版本），或新用户名的人脸与已注册的人相似。操作员处理之前不会注册任何内容。',
    7: '令牌未知、已过期、已被使用，或是发给另一台设备（或同一设备的另一种凭证）的：请向 /faces/api/token 重新申请。已签名调用的 X-Device-Timestamp 与服务器时钟相差过大（消息中给出服务器时间）。对于图片链接：链接已过期或被篡改（HTTP 403）。',
    8: '此设备的调用过多、此地址的令牌申请过多，或此地址被拒绝的调用过多；请在 Retry-After 响应头指定的时间后重试（HTTP 429）。',
    12: '没有这个接口（HTTP 404），或链接指向的图片已不存在。',
    9001: '调用无法证明来自已批准的设备：没有用设备凭证签名（或签名无法验证，或已被使用过），或是来自非兼容模式设备、或不在其绑定地址的未签名调用。无论名称和序列号是否存在，回答都相同，因此不会向猜测者透露任何信息；从未见过的设备由 /faces/api/token 登记为待批准。对已证明身份的设备：它已被封禁或正在等待批准，或缺少该接口所需的权限（消息中会指出）。',
    9002: '请求完全没有字段，或对 POST 接口使用了 GET（HTTP 405，Allow: POST）。',
    9004: '已签名调用中的 deviceName 或 deviceSN（sn）指向的不是签名的那台设备。',
    9005: '缺少必填字段或字段为空，或人脸框缺少四条边中的某些边；消息中会指出。',
    9006: '图片中没有人脸。',
    9007: '服务器意外出错；其日志中以消息里的请求 ID 记录了详情（HTTP 500）。或者服务器的 Redis（保存令牌、随机数、频率计数和同步点）或数据库（超过 5 秒的忙等待、正在重启或无法连接）不可用（HTTP 503，带 Retry-After）：调用被拒绝且没有写入任何内容，恢复后重新调用（使用新的令牌和随机数）即可成功；消息会说明是哪一个。离线模式的终端在此期间继续识别，之后再上报结果。',
    9113: '无法读取上传的文件：上传被中断，或图片已损坏。',
    69640: '上传的不是 JPEG、PNG、WebP、GIF、TIFF 或 HEIF 图片。',
    69642: `上传的内容过大：超过 ${terminalConfig.images.maxBytes} 字节、超过 ${terminalConfig.images.maxPixels} 像素（解码前从文件头读取），或请求体超过服务器的上限。`,
    73731:
      'regFace：图片中有多个人（每张注册照片只能有一个人），或人脸质量不足以注册；消息会说明需要改变什么（正对摄像头、增加光线、保持不动、靠近一些）。',
    73733:
      '特征来自不同的模型，无法比较（每份特征数据都写明了模型），或来自此服务器没有分数校准的模型。',
  },

  authentication: {
    summary:
      '设备的名称和序列号用于识别设备；它们印在设备标签上，不能证明任何事情。操作员批准设备时（设备页面，或 `node ace device:approve <serial>`），服务器只显示一次该设备的凭证，形如 `fa1_…` 的密钥；终端用它为每次调用签名，包括令牌申请，而令牌只能用于签发给的那台设备所签名的调用。无法签名的固件运行在兼容模式下，由操作员逐台开启：它的未签名调用只接受来自其绑定地址的请求。每台设备只能调用被允许的接口组：识别（faceDetect … faceIdentify）、数据库（getDbs）、反馈（clinetFeedback、clinetWebResult）和注册（regFace，默认关闭）。',
    headers: {
      'X-Device-Serial': '设备的序列号（ASCII 以外的字符按 UTF-8 进行百分号编码）。',
      'X-Device-Timestamp': `调用时间，unix 秒数；与服务器时钟相差不超过 ${terminalConfig.auth.maxSkewSeconds} 秒。`,
      'X-Device-Nonce': '16 到 64 个字母、数字、“-”或“_”，每次调用都要新的：同一调用只接受一次。',
      'X-Device-Content-SHA256':
        '按原样发送的请求体（表单、multipart 或 JSON）的 SHA-256，十六进制；没有请求体时为空字符串的 SHA-256。',
      'X-Device-Signature':
        '以凭证（其字符的 UTF-8 字节）为密钥，对待签名字符串计算的 HMAC-SHA256，小写十六进制。',
    },
  },

  endpoints: {
    token: {
      summary: '为下一次调用申请令牌',
      description:
        '能证明自己身份的已批准设备（已签名的调用，或位于绑定地址的兼容模式设备）可获得一个 40 个十六进制字符的令牌。它在 `expiresIn` 秒内有效，并且正如原始文档所说，“每次向服务器发送都需要获取新令牌”：它只能用于一次调用，而该调用必须以同样的方式证明身份。指向从未见过的设备的未签名调用会把它登记为待批准（每个地址以及总数都有上限），设备会出现在设备页面等待操作员批准；所有未证明身份的调用都得到 9001。申请按地址限流，设备证明身份后还按设备限制每分钟的调用次数。',
      fields: { deviceName: device.deviceName, sn: device.sn },
      answer: { token: '40 个十六进制字符。', expiresIn: '令牌的有效秒数。' },
    },
    pair: {
      summary: '无需输入凭据即可配对终端代理',
      description: `超出原始协议：没有凭据的终端如何获得凭据。终端生成一个随机的 \`pairingKey\`（32 到 128 个字母、数字、“-”或“_”），自行保存，并以不签名的方式调用此接口。服务器把从未见过的设备登记为待批准（与 /faces/api/token 受同样的待批准设备数量上限约束，每个新请求计入该地址被拒调用的额度），只保存密钥的 SHA-256，并回答 \`state: "waiting"\` 和由密钥导出的 6 位 \`pairingCode\`，终端将其显示在屏幕上。操作员在设备页面输入该代码（或 \`node ace device:approve <serial> --pairing-code=<code>\`）：只有这个请求被批准，设备获批并得到新凭据（原有凭据立即失效），该序列号的其他请求都被拒绝。每隔几秒用相同字段再次调用：批准后的第一个回答带有 \`state: "approved"\` 和 \`credential\`，只发送一次；之后的调用回答 \`delivered\`，不再带凭据。请求等待 ${terminalConfig.agent.pairingTtlSeconds / 60} 分钟（之后为 \`expired\`，请用新密钥重新配对），同一序列号同时最多 ${terminalConfig.agent.pairingsPerDevice} 个请求等待（否则为 8）。任何人都能读到终端的标签，所以一个序列号可能有多个请求；每个请求有自己的代码，只有看到终端屏幕上代码的操作员才能选中正确的那个。被屏蔽的设备被拒绝（9001），传统模式的设备也被拒绝（5，直到操作员关闭传统模式）。`,
      fields: {
        deviceName: device.deviceName,
        sn: device.sn,
        pairingKey:
          '终端自己的随机密钥，32 到 128 个字母、数字、“-”或“_”（例如 32 个随机字节的 base64url）。同一密钥用于轮询该请求；不要在另一个请求中重复使用。',
      },
      answer: {
        state:
          '`waiting`（显示代码并再次调用）、`approved`（凭据在此回答中）、`delivered`（凭据已在之前的回答中）、`refused`（操作员批准了另一个请求或拒绝了此请求）或 `expired`。',
        pairingCode: '在终端上显示、供操作员输入的 6 位数字。',
        expiresIn: '等待期间：请求过期前剩余的秒数。',
        credential: '仅在 `approved` 时：用于签名每次调用的凭据（见设备认证）。只发送一次。',
      },
    },
    faceDetect: {
      summary: '找出图片中的人脸',
      description:
        '图片中的每张人脸，从大到小，带有像素坐标的人脸框和平面内角度代码：1 = 0°，2 = 90°，3 = 270°，4 = 180°，5 = 30°，6 = 60°，7 = 120°，8 = 150°，9 = 210°，10 = 240°，11 = 300°，12 = 330°。',
      fields: { token: tokenRequired, image },
      answer: {
        'faces': '找到的人脸数量。',
        'faceContent': '每张人脸一项，从大到小。',
        'faceContent.id': '本次回答中的人脸编号，从 0 开始。',
        'faceContent.left': '人脸框左边。',
        'faceContent.top': '人脸框上边。',
        'faceContent.right': '人脸框右边。',
        'faceContent.bottom': '人脸框下边。',
        'faceContent.angle': '角度代码（1–12）。',
      },
    },
    faceAge: {
      summary: '估计人脸的年龄',
      description: '人脸框中的人脸（未给出人脸框时为最大的人脸）的年龄，以岁为单位。',
      fields: { token: tokenRequired, image, ...box },
      answer: { age: '估计的年龄（岁）。' },
    },
    faceGender: {
      summary: '估计人脸的性别',
      description: '人脸框中的人脸或最大人脸的性别：0 男，1 女，模型两者都不确定时为 -1。',
      fields: { token: tokenRequired, image, ...box },
      answer: { gender: '0 男，1 女，-1 未知。' },
    },
    faceFeature: {
      summary: '人脸的特征',
      description:
        '人脸框中的人脸或最大人脸的特征（人脸描述子），为写明模型的带版本数据，用于 faceRecognize、终端上与 getDbs 数据的比对，或 regFace。',
      fields: { token: tokenRequired, image, ...box },
      answer: { feature: '特征数据，base64。', featureSize: '解码后特征数据的字节数。' },
    },
    faceRecognize: {
      summary: '比较两个特征',
      description:
        '两个特征经过校准的相似度：0.6 及以上表示同一个人（终端使用的阈值，对应实测的误识率）。不同模型的特征会以 73733 拒绝，而不会进行比较。',
      fields: {
        token: tokenRequired,
        pending: `要检查的人脸的特征。${featureBlob}`,
        original: `用于比较的已注册特征。${featureBlob}`,
      },
      answer: { score: '0 到 1；0.6 及以上即为匹配。' },
    },
    faceIdentify: {
      summary: '这是谁，能否通行？（在线模式）',
      description:
        '原始协议之外的接口：服务器在所有已注册的人中识别最大的人脸，并像在门口一样做出决定（状态有效且在有效期内、通行组包含此设备、该组的时间表和节假日、设备要求人脸加卡时的卡片）。一次搜索会与每张已注册的人脸比较，因此认出某人所需的分数（`threshold`）随人脸数量上升，以使被当作某人的陌生人比例保持在站点的目标（IDENTIFY_TARGET_FPIR，未设置时为 1%；设备可以有自己的目标）：人脸很少时为 0.6，1,000 张时约 0.8，10,000 张时约 0.9。最佳人选还必须领先下一位（`runnerUpScore`）至少 IDENTIFY_MARGIN（0.03），这样两个长得很像的人都不会被认出。低于任一要求时人脸为未知；被认出但不允许通过的人会在回答和事件中写明姓名和原因。每个决定，无论允许还是拒绝，都会记录为通行事件，以图片作为抓拍，带有两个分数和阈值，并实时显示在通行记录页面。',
      fields: {
        token: tokenRequired,
        image,
        cardNumber:
          '与人脸一起出示的卡片，用于要求人脸加卡的设备：卡的 UID（十六进制，可带分隔符）或其十进制卡号。',
      },
      answer: {
        'person': '认出的人，或 null。',
        'person.username': '唯一的用户名。',
        'person.name': '显示名称。',
        'score': '最佳匹配的校准分数（被认出的人达到 `threshold`）；没有任何人注册时为 null。',
        'runnerUpScore': '最佳匹配者以外的其他人中的最高分，或 null。',
        'threshold': '按当前已注册人脸数量认出某人所需的分数。',
        'decision': '"granted"（允许）或 "denied"（拒绝）。',
        'reason':
          'granted、unknown_face、not_authorized（也包括缺卡或卡不对）、outside_schedule、suspended 或 expired。',
        'eventId': '记录的通行事件。',
      },
    },
    getDbs: {
      summary: '此设备可放行的人脸',
      description:
        '与此设备同属一个通行组、状态有效且在有效期内的每个人，每张已注册人脸一项（有两张人脸的人出现两次）。`faceData` 是特征数据，`picUrl` 是指向注册照片的签名链接，在有限时间内无需会话即可使用。带上 `since`（之前某次回答的 `revision`）时只发送变化的部分：替换 `names` 中各用户名的所有条目，删除 `removed` 中的用户名；`full` 表示回答是否为全部数据（设备自身的授权改变之后，或 `since` 不是上次发给它的版本时）。对发送 Accept-Encoding 的客户端，较大的回答会用 gzip 或 brotli 压缩。离线判断的终端还会收到：所发送人员的有效期和通行组（`people`）、设备的通行组及其日程（`groups`）、设备要求的验证方式和站点时区：人员在有效期内、通过日程允许当前时间的通行组（无日程：始终允许；节假日：不允许）并满足要求的验证方式时放行。旧终端会忽略这些字段。',
      fields: {
        deviceName: device.deviceName,
        deviceSN: device.deviceSN,
        token: tokenRequired,
        since: '设备保存的上一次回答的 `revision`。',
      },
      answer: {
        'names': '每张人脸一项。',
        'names.name': '显示名称（faceName）。',
        'names.username': '唯一的用户名。',
        'names.faceData': '特征数据，base64。',
        'names.picUrl': '指向注册照片的签名链接；没有保存照片时为空。',
        'removed': '带 since 时：要删除的用户名。完整回答中为空。',
        'revision': '下次作为 `since` 发送。',
        'full': '此回答是否为全部数据。',
        'people':
          '用于离线判断：`names` 中每个人一项。人员在有效（未生效的人员不会发送）且在有效期内，并通过其某个日程允许当前时间的通行组时可以通行。',
        'people.username': '用户名，与 `names` 中相同。',
        'people.validFrom': '人员可以开始通行的 ISO 8601 时间；不限时为 null。',
        'people.validUntil': '人员可以通行到的 ISO 8601 时间；不限时为 null。',
        'people.groups': '人员可通过此设备的通行组（见 `groups`）的 ID。',
        'people.cardNumber':
          '要匹配的卡号（大写十六进制），只发给需要刷卡的设备（`card`、`face_card`）；人员没有卡时为 null。',
        'groups': '授权此设备的通行组，每个回答都有。',
        'groups.id': '人员引用的通行组 ID。',
        'groups.name': '通行组名称。',
        'groups.schedule':
          '通行组任何时间都适用时为 null；否则为 `{id, name, windows, holidays}`：每周的 `windows` 为 `{weekday（1 周一 … 7 周日）, startsAtMinute, endsAtMinute}`（从午夜起的分钟数，不含结束），`holidays` 为不适用任何时段的日期（YYYY-MM-DD），均按 `timeZone`。',
        'requiredFactors':
          '设备要求的验证方式：`face`、`card`（只刷卡）或 `face_card`（人脸加其卡）。',
        'timeZone': '站点的 IANA 时区，日程和节假日按此时区适用。',
        'targetFpir':
          'faceIdentify 在此设备上保持的误识率（设备自己的目标，否则为站点的）：离线判定的终端据此和所持人脸数推出阈值。',
        'margin': '最佳人员的分数须领先第二名的幅度，才会被认出。',
      },
    },
    syncEvents: {
      summary: '等待此设备的人脸数据库发生变化',
      description: `长轮询，让终端无需反复获取数据库即可得知变化。终端发送其上一次 getDbs 回答的 \`revision\`（尚无数据时为 0），这同时记录它已持有该版本（设备页面会显示）。当有与此设备相关的变化等待同步时（其通行组中的人员被添加、修改、停用或移除，人脸被添加或删除，设备自身的授权改变，或任何人被删除或其生物特征数据被清除），立即回答 \`changed: true\`：此时用持有的版本作为 \`since\` 调用 getDbs，再用新的版本调用 syncEvents。否则调用最多等待 ${terminalConfig.sync.waitSeconds} 秒（DEVICE_SYNC_WAIT_SECONDS），没有变化则回答 \`changed: false\`；请立即再次调用。其他设备的变化不会唤醒它。操作员在设备页面为此设备下达、尚未发送的命令（见 heartbeat）也会让调用立即回答，除非同时有变化，否则 \`changed: false\`；每个回答都列出尚未报告完成的命令。HTTP 读取超时应长于等待时间。服务器的 Redis 不可用时立即回答 9007（HTTP 503，带 Retry-After），等待期间 Redis 断开时也是如此。`,
      fields: {
        deviceName: device.deviceName,
        deviceSN: device.deviceSN,
        token: tokenRequired,
        revision:
          '设备保存的上一次 getDbs 回答的 `revision`，尚无数据时为 0。不能大于服务器当前的版本。',
      },
      answer: {
        changed: '是否有此设备的变化等待同步：是则带 `since` 调用 getDbs。',
        revision: '人脸数据库的最新版本。请继续发送上一次 getDbs 回答的版本，而不是这个。',
        pending: '设备将收到或删除的人员数；没有变化时为 0。',
        ...agentCommands,
      },
    },
    regFace: {
      summary: '从终端注册人脸',
      description:
        '需要设备的注册权限（除非操作员允许，否则关闭）。按 `username`（唯一）创建人员，并注册 `picBase64` 中的人脸；这样新建的人员在操作员批准之前不加入任何通行组。对已存在的人员，只有当人脸在 1:1 阈值下与其已注册的人脸匹配、且 `faceName` 是其姓名时才会添加：不匹配的人脸、尚无人脸的人员或新的姓名会被留待操作员审核，回答 5，不注册任何内容。服务器自己计算特征；一并发送的 `faceData` 会与图片及其模型核对（不符时为 2 或 73733），从不保存。再次发送同一张照片不会添加任何内容（也只留待审核一次）。',
      fields: {
        deviceName: device.deviceName,
        deviceSN: device.deviceSN,
        token: tokenOptional,
        username: '唯一：字母、数字、“.”、“_”、“@”和“-”，最多 64 个字符。',
        faceName: '显示名称，最多 120 个字符。',
        picBase64: '注册照片，base64（也可以是 data URL）。',
        faceData: '终端自己计算的照片特征，会被核对，不会被信任。',
      },
      answer: {
        username: '注册的人员。',
        faceId: '保存（或找到）的人脸。',
        created: '照片已注册过时为 false。',
      },
    },
    clinetFeedback: {
      summary: '上报终端认出的人',
      description:
        '为所指的人（发送了 `username` 时按用户名，否则按唯一的 `faceName`）在此设备记录一条通行事件，并推送到打开的通行记录页面。记录的决定是服务器自己针对此人、设备和时间做出的，因此人脸库过期的终端会表现为带原因的拒绝。接口名称沿用原始拼写。',
      fields: {
        deviceName: device.deviceName,
        deviceSN: device.deviceSN,
        token: tokenOptional,
        faceName: '终端认出的姓名。',
        username: '用户名，终端知道时发送。',
        time: `此人通过的时间，unix 秒数：延迟发送的上报（网络恢复之后）会保留这个时间。早于 2000 年（时钟未设置）时使用到达时间；比服务器时钟超前 ${feedbackClockSkewSeconds} 秒以上会以 2 拒绝。`,
        score: '终端的匹配分数，0 到 1。',
        eventId:
          '终端为此次上报自定的 ID（最多 64 个字母、数字、“_”、“.”、“:”或“-”）：以同一 ID 重试的上报在每台设备上只记录一次，重试得到的是第一次记录的事件（消息为 "already recorded"）。',
        refusal:
          '终端自己拒绝了这次通行："spoof" 表示人脸未能证明是活体（要求眨眼或转头的终端前没有眨眼或转头）。无论此人像谁，都记录为以此原因拒绝。',
        image: '抓拍，文件部分或 base64 文本。',
      },
      answer: {
        eventId: '记录的通行事件。',
        decision: '"granted"（允许）或 "denied"（拒绝）。',
        reason: '原因，与 faceIdentify 相同。',
      },
    },
    clinetWebResult: {
      summary: '此设备的最新结果',
      description:
        '此设备最新的通行事件：姓名和 unix 秒数表示的时间。在第一条之前，姓名为空、时间为 0。',
      fields: { deviceName: device.deviceName, deviceSN: device.deviceSN, token: tokenOptional },
      answer: {
        faceName: '此人的姓名，或上报的姓名。',
        time: 'unix 秒数。',
        username: '没有认出任何人时为空。',
        decision: '"granted"（允许）或 "denied"（拒绝）。',
        reason: '原因。',
        score: '匹配分数，或 null。',
      },
    },
    heartbeat: {
      summary: '终端代理的状态，以及等待它执行的命令',
      description: `超出原始协议：终端代理每隔几秒报告一次状态，像每次调用一样签名；任何已批准的设备都可以调用。设备页面显示最新状态：识别模式、等待发送的判定数及其中最早一条的时长（超过 ${terminalConfig.agent.backlogAlertMinutes} 分钟会被标出）、持有的人脸数据库版本、摄像头、闸机、读卡器和补光灯的健康状况，以及到达时间。\`state\` 是 JSON 对象（JSON 请求体中）或其 JSON 文本（表单字段中）；每个字段都会检查，错误的字段回答 2 并指明它（\`state.backlog: …\`）；其他字段被忽略。回答像 syncEvents 一样列出等待此设备执行的命令；在下一次心跳的 \`commandsDone\` 中列出已执行的命令，它们就不会再被发送。`,
      fields: {
        'deviceName': device.deviceName,
        'deviceSN': device.deviceSN,
        'token': tokenOptional,
        'state':
          '`{mode, backlog, oldestUnsentAgeMs, revision, camera, gate, reader, light, commandsDone, version}`：`mode` 为 "online"（服务器判定）或 "offline"（终端判定）；`backlog` 为已保存但服务器尚未接收的判定数；`oldestUnsentAgeMs` 为其中最早一条的时长（毫秒），没有时为 null；`shedSnapshots`（可选）为终端为控制磁盘占用而删除的抓拍数，最早的先删（事件保留）；`revision` 为持有的人脸数据库版本；`camera`、`gate`、`reader` 和 `light` 各为 `{state: "ok" | "fault" | "absent", detail?}`（detail 最多 200 个字符）；`commandsDone` 为上次心跳以来执行完的命令编号；`version` 为代理的版本。',
        'state.mode': '"online" 或 "offline"。',
        'state.backlog': '尚未发送的判定数。',
        'state.oldestUnsentAgeMs': '毫秒；没有等待发送的判定时为 null。',
        'state.revision': '持有的版本。',
        'state.camera': '摄像头：{state: "ok" | "fault" | "absent", detail?}。',
        'state.gate': '闸机：{state: "ok" | "fault" | "absent", detail?}。',
        'state.reader': '读卡器：{state: "ok" | "fault" | "absent", detail?}。',
        'state.light': '补光灯：{state: "ok" | "fault" | "absent", detail?}。',
        'state.commandsDone': '上次心跳以来执行完的命令编号。',
        'state.version': '代理的版本。',
      },
      answer: {
        ...agentCommands,
        serverTime: '服务器时钟，unix 秒数。',
      },
    },
    pictures: {
      summary: '注册照片（getDbs 的 picUrl）',
      description:
        '`picUrl` 指向的照片，在链接有效期内无需会话即可下载。过期或被篡改的链接以 7 拒绝（HTTP 403），没有保存照片的人脸以 12 拒绝（HTTP 404），均为 JSON。',
      fields: { id: '人脸 ID（路径）。', signature: '链接的签名（查询字符串），由 getDbs 生成。' },
      answer: {},
    },
  },
}
