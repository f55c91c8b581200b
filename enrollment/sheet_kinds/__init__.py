"""Sheet kinds of the enrollment app (import and export through ``sheets``): ``persons``
(参保人员, 缴费记录) and ``registrations`` (门诊慢特病/两病登记, 身份, 家庭关系). Importing the
package registers them."""

from . import persons, registrations  # noqa: F401
