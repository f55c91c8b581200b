"""Code tables of the product vocabulary (spec ``codes.md``).

These are *codes*, not policy numbers: stable identifiers used on every interface
(fixtures, spreadsheets, trial_calc). Policy numbers live in the rule tables of
``policies.models``. Special identities are a database table (``Identity``) because
their names and certifying departments are edited by staff.
"""
from django.db import models


class SchemeKind(models.TextChoices):
    EMPLOYEE_BASIC = "employee_basic", "职工基本医疗保险"
    RESIDENT_BASIC = "resident_basic", "城乡居民基本医疗保险"
    CRITICAL_ILLNESS = "critical_illness", "城乡居民大病保险"
    EMPLOYEE_LARGE = "employee_large", "职工大额医疗费用补助"
    EMPLOYEE_SUPPLEMENTARY = "employee_supplementary", "职工补充医疗保险"
    MEDICAL_ASSISTANCE = "medical_assistance", "城乡医疗救助"
    INCLUSIVE_COMMERCIAL = "inclusive_commercial", "普惠型商业补充医疗保险"


class PersonCategory(models.TextChoices):
    EMPLOYEE_ACTIVE = "employee_active", "在职职工"
    EMPLOYEE_RETIRED = "employee_retired", "退休人员"
    FLEXIBLE = "flexible", "灵活就业人员"
    RESIDENT = "resident", "城乡居民"
    STUDENT = "student", "在校学生/在园幼儿"
    NEWBORN = "newborn", "新生儿"


class ClaimType(models.TextChoices):
    INPATIENT = "inpatient", "住院"
    OUTPATIENT = "outpatient", "普通门诊（门诊统筹）"
    CHRONIC_OUTPATIENT = "chronic_outpatient", "门诊慢特病"
    TWO_DISEASES = "two_diseases", "“两病”门诊用药"
    PRENATAL = "prenatal", "产前检查"
    DELIVERY = "delivery", "住院分娩"
    SPECIAL_DRUG = "special_drug", "特定药品（特药）"


class DeliveryMode(models.TextChoices):
    VAGINAL = "vaginal", "顺产"
    CESAREAN = "cesarean", "剖宫产"


class HospitalLevel(models.IntegerChoices):
    LEVEL1 = 1, "一级及以下"
    LEVEL2 = 2, "二级"
    LEVEL3 = 3, "三级"


class HospitalGrade(models.TextChoices):
    A = "A", "甲等"
    B = "B", "乙等"
    UNGRADED = "-", "未定等"


class AdminLevel(models.TextChoices):
    TOWNSHIP = "township", "乡镇级"
    COUNTY = "county", "县级"
    CITY = "city", "市级"
    PROVINCE = "province", "省级"


class Location(models.TextChoices):
    IN_REGION = "in_region", "统筹区内"
    IN_PROVINCE = "in_province", "省内异地"
    OUT_OF_PROVINCE = "out_of_province", "跨省"


class LocationScope(models.TextChoices):
    """Where a rule row applies (a selector; blank = anywhere)."""

    IN_REGION = "in_region", "统筹区内"
    NOT_IN_REGION = "not_in_region", "统筹区外（省内及跨省）"
    IN_PROVINCE = "in_province", "省内异地"
    OUT_OF_PROVINCE = "out_of_province", "跨省"
    WITHIN_PROVINCE = "within_province", "省内（含统筹区内）"


class Channel(models.TextChoices):
    PERSONAL_ACCOUNT = "personal_account", "职工医保个人账户代扣"
    FAMILY_ACCOUNT = "family_account", "家庭共济账户"
    EMPLOYER = "employer", "单位缴纳"
    TAX_APP = "tax_app", "税务APP/电子税务局/公众号"
    WECHAT = "wechat", "微信"
    ALIPAY = "alipay", "支付宝"
    UNIONPAY = "unionpay", "云闪付"
    BANK = "bank", "银行柜台/网银/手机银行"
    SERVICE_CENTER = "service_center", "便民服务中心/村(社区)代收"
    CASH = "cash", "现金"
    GOVERNMENT = "government", "财政资助"
    CHARITY = "charity", "慈善捐赠"


class Relation(models.TextChoices):
    SELF = "self", "本人"
    SPOUSE = "spouse", "配偶"
    CHILD = "child", "子女"
    PARENT = "parent", "父母"
    SPOUSE_PARENT = "spouse_parent", "配偶的父母"
    SIBLING = "sibling", "兄弟姐妹"
    GUARDIAN = "guardian", "监护人"
    OTHER = "other", "其他"


class Department(models.TextChoices):
    CIVIL_AFFAIRS = "civil_affairs", "民政"
    RURAL_REVITALIZATION = "rural_revitalization", "乡村振兴"
    DISABLED_FEDERATION = "disabled_federation", "残联"
    VETERANS = "veterans", "退役军人事务"


class PreExistingGroup(models.TextChoices):
    TUMOR = "tumor", "肿瘤类"
    LIVER_KIDNEY = "liver_kidney", "肝肾疾病类"
    CARDIO_METABOLIC = "cardio_metabolic", "心脑血管、糖脂代谢疾病类"
    LUNG = "lung", "肺部疾病类"
    OTHER = "other", "其他疾病类"


class MajorDisease(models.TextChoices):
    ORGAN_TRANSPLANT = "organ_transplant", "器官移植术后抗排斥治疗"
    MALIGNANT_TUMOR = "malignant_tumor", "恶性肿瘤手术（含放疗、化疗）"
    DIALYSIS = "dialysis", "慢性肾功能衰竭透析"


class DrugClass(models.TextChoices):
    A = "A", "A类"
    B = "B", "B类"
    C = "C", "C类"
